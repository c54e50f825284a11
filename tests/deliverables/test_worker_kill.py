"""A worker killed with SIGKILL in the middle of a packet export leaves no half-written file, and the export finishes
once a worker is back: the task was acknowledged late, so Redis hands it out again after the broker's visibility
timeout (here 95 s; in production VIGIL_BROKER_VISIBILITY_TIMEOUT, by default 20 minutes, or the beat sweep after the
long-task limit + 60 s, whichever comes first).

The worker is this test's own process group (prefork parent and child, both killed), consuming a queue of its own so
that the session's shared worker never takes the task.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from kombu import Connection

from deliverables.models import PacketExport
from deliverables.private_files import private_path
from deliverables.tasks import packet_export_task
from demo.campaign import demo_signatures_add
from tests.conftest import ROOT, _database_url
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import ClosedPetitionFactory
from tests.utils import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

QUEUE = f"deliverables-kill-{uuid.uuid4().hex[:6]}"


def _kill_broker_url() -> str:
    """A Redis database of this test's own: the session's worker must not see (nor restore) these messages."""
    base, _, db = settings.CELERY_BROKER_URL.rpartition("/")
    return f"{base}/{12 if db == '13' else 13}"


LONG_LIMIT, VISIBILITY = 30, 95


def _worker(log_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": _kill_broker_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        "VIGIL_PRIVATE_ROOT": str(settings.VIGIL_PRIVATE_ROOT),
        "VIGIL_LONG_TASK_TIME_LIMIT": str(LONG_LIMIT),
        "VIGIL_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "VIGIL_EXPORT_PROGRESS_SECONDS": "0.1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        QUEUE,
        "--pool=prefork",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
        f"--hostname=kill-{uuid.uuid4().hex[:8]}@%h",
    ]
    log = open(log_path, "ab")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _kill(process) -> None:
    """SIGKILL the worker and every process under it (the pool's children may leave its process group)."""
    victims = [process.pid, *_descendants(process.pid)]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in victims[1:]):
        time.sleep(0.05)


def test_a_worker_killed_mid_export_leaves_no_file_and_the_export_completes_later(tmp_path):
    petition = ClosedPetitionFactory()
    demo_signatures_add(petition=petition, count=40_000)
    # The job row is made directly: the request service would also queue it on the shared broker, where the
    # session's worker could run it. Only this test's workers, on their own broker database, may.
    export = PacketExport.objects.create(
        petition=petition, kind="pdf", include_emails=False, requested_by=organiser_of(petition), rows_total=40_000
    )
    log_path = tmp_path / "worker.log"
    first = _worker(log_path)
    try:
        redis.Redis.from_url(_kill_broker_url()).flushdb()
        with Connection(_kill_broker_url()) as connection:
            packet_export_task.apply_async(args=[export.pk], queue=QUEUE, connection=connection)
        assert wait_for(
            lambda: PacketExport.objects.filter(pk=export.pk, state="running", rows_done__gt=0).exists(),
            timeout=90,
            interval=0.02,
        ), log_path.read_text()
    finally:
        _kill(first)
        killed_at = time.monotonic()
        killed_wall = timezone.now()
    export.refresh_from_db()
    assert export.state == "running" and 0 < export.rows_done < 40_000, export.__dict__
    folder = private_path(f"packets/{petition.pk}")
    visible = [p.name for p in folder.iterdir() if not p.name.startswith(".")] if folder.exists() else []
    assert visible == [], visible  # only a hidden .part file may be left, never the final name

    second = _worker(log_path)
    try:
        finished = wait_for(
            lambda: PacketExport.objects.filter(pk=export.pk, state="done").exists(),
            timeout=VISIBILITY + 90,
            interval=0.5,
        )
        waited = time.monotonic() - killed_at
        assert finished, log_path.read_text()[-5000:]
    finally:
        _kill(second)
    export.refresh_from_db()
    assert export.rows_total == export.rows_done == 40_000, export.__dict__
    # The run that finished began after the kill: the job was redelivered, not finished by the killed worker.
    assert export.started_at > killed_wall and export.attempts >= 2, (export.__dict__, log_path.read_text()[-5000:])
    assert waited < VISIBILITY + 90
    content = private_path(export.file_name).read_bytes()
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    assert [p.name for p in folder.iterdir()] == [export.file_name.rsplit("/", 1)[1]]  # leftovers removed
