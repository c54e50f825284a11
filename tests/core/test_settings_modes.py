"""Settings load from the environment in both modes, and production values pass `check --deploy`."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'cache': s.CACHES['default']['BACKEND'], "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG, "
    "'health_checks': s.DATABASES['default']['CONN_HEALTH_CHECKS'], 'delivery': s.VIGIL_EMAIL_DELIVERY_BACKEND}))"
)
VIGIL_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_", "VIGIL_", "ALLAUTH_")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(VIGIL_VARS)}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def probe(env: dict[str, str]) -> dict:
    result = run(env, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_needs_nothing_but_debug(tmp_path):
    found = probe({"DJANGO_DEBUG": "1", "DJANGO_VAR_DIR": str(tmp_path)})
    assert found == {
        "engine": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "eager": True,
        "broker": "memory://",
        "debug": True,
        "health_checks": True,
        "delivery": "django.core.mail.backends.console.EmailBackend",
    }


def test_configured_services_are_used():
    found = probe(
        {
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/vigil",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        }
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert found["eager"] is False
    assert found["broker"] == "redis://127.0.0.1:6379/3"


def test_debug_is_off_unless_asked_for_and_then_a_secret_is_required():
    result = run({}, "-c", PROBE)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_needs_the_address_hash_key():
    result = run({"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "vigil.example.org"}, "-c", PROBE)
    assert result.returncode != 0
    assert "VIGIL_IP_HASH_KEY is not set" in result.stderr


def test_production_needs_allowed_hosts():
    result = run({"DJANGO_SECRET_KEY": "x" * 60}, "-c", PROBE)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS is not set" in result.stderr


def test_malformed_boolean_is_refused_with_its_name():
    result = run({"DJANGO_DEBUG": "maybe"}, "-c", PROBE)
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_check_deploy_is_clean_with_production_values():
    result = run(
        {
            "DJANGO_SECRET_KEY": "k3Q9-production-like-secret-Zx81nB4vT7pLm2Ws6Yc0Re5Ua1Hj8Gk3Df",
            "DJANGO_ALLOWED_HOSTS": "vigil.example.org",
            "VIGIL_IP_HASH_KEY": "production-like-address-hash-key-7Hq2Lr9Xw4Zt8Nc1Vb6Mk3Pj5Sd0Fg",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/vigil",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
