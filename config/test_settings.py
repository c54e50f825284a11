"""Settings for the test suite: production-shaped (DEBUG off), on PostgreSQL and Redis unless told otherwise."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-key-5b1f0d7e2c9a4863b0e1d4f7a2c5e8b1d3f6a9c2e5b8d1f4a7")
os.environ.setdefault("VIGIL_IP_HASH_KEY", "test-only-address-hash-key-8e2b7c41d09f")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# The broker gets a Redis database of its own: tests empty the cache's database between them.
os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/14")
os.environ.setdefault("DJANGO_HTTPS", "0")
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("DJANGO_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

from config.env import env_int  # noqa: E402
from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 (WhiteNoise warns when it is missing)

# Tests write a signature when the form is posted, so that they can look at it at once; the intake (the production
# default, which a worker writes in batches) has tests of its own that switch it on (tests/signatures/test_intake.py).
VIGIL_SIGN_INTAKE = False
# The suite's Redis is the machine's, without an append-only file; the persistence rule has tests of its own, on
# throwaway servers (tests/drills).
VIGIL_SIGN_INTAKE_REQUIRE_PERSISTENCE = False
VIGIL_WORKER_NICENESS = env_int("VIGIL_WORKER_NICENESS", 0)  # the suite waits on its worker: no lower priority
# Bulk mail in the pump's own thread: a thread of its own has its own database connection, which cannot see a test's
# uncommitted rows. The worker-kill test of mailings runs its workers with the production default.
VIGIL_OUTBOX_BULK_NICE = env_int("VIGIL_OUTBOX_BULK_NICE", 0)
# A watched word a test adds applies to the next comment at once (production looks every 2 s).
VIGIL_COMMENTS_WATCHLIST_SECONDS = 0
# A signature rule a test adds applies to the next signature at once (production looks every 2 s).
VIGIL_SIGNATURE_RULES_SECONDS = 0
# The tests' webhook receivers listen on 127.0.0.1; the tests of the refusal of local addresses switch this off.
VIGIL_WEBHOOK_ALLOW_LOCAL = True
