"""Fixtures shared by the whole suite.

The suite runs on real PostgreSQL and Redis (see scripts/test). Tests whose behaviour depends on the queue use
`celery_worker`: a real `celery worker` process, started once per session against the test database and the
broker's own Redis database.
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from tests.utils import wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _empty_redis():
    """Each run starts with an empty cache and an empty queue."""
    for url in {settings.REDIS_URL, settings.CELERY_BROKER_URL}:
        redis.Redis.from_url(url).flushdb()


@pytest.fixture(autouse=True)
def _outbox_and_clean_cache(settings):
    """Django's test setup swaps EMAIL_BACKEND for locmem; put the outbox back so tests see what production does.

    What the outbox delivers in this process goes to VIGIL_EMAIL_DELIVERY_BACKEND, locmem (django.core.mail.outbox).
    """
    settings.EMAIL_BACKEND = "core.mail.OutboxBackend"
    cache.clear()


@pytest.fixture(autouse=True)
def _signature_rules_fresh():
    """Each test starts, and leaves, with no signature rules compiled in this process (as a process started anew)."""
    from signatures.services.rules import signature_rules_forget

    signature_rules_forget()
    yield
    signature_rules_forget()


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, process: subprocess.Popen, mail_dir: Path, log_path: Path):
        self.process = process
        self.mail_dir = mail_dir
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def delivered_mail(self) -> list[str]:
        if not self.mail_dir.exists():
            return []
        return [path.read_text(errors="replace") for path in sorted(self.mail_dir.iterdir())]


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process (prefork, one child) on the test database; stopped before the database goes."""
    from core.tasks import ping_task

    mail_dir = tmp_path_factory.mktemp("worker-mail")
    log_path = tmp_path_factory.mktemp("worker-log") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        "DJANGO_CONN_MAX_AGE": "0",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel=INFO", f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = WorkerProcess(process, mail_dir, log_path)
    try:
        token = uuid.uuid4().hex
        ping_task.delay(token)
        if not wait_for(lambda: cache.get(f"core:ping:{token}") is not None, timeout=60):
            raise RuntimeError(f"The Celery worker did not start within 60 s. Its log:\n{worker.log()}")
        yield worker
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
