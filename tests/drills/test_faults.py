"""Fault drills: signing under load on a production-like stack while PostgreSQL, Redis or the worker fails.

Each drill records every answer, injects one fault, and asserts what a signer was promised: every 303 becomes a row
once the intake drains, no one is written twice, each confirmation is sent once, no 500 (or any answer but 303)
while the fault lasts, and the site catches up within the stated bound. The figures of each run are appended to
var/test/drills.jsonl. The stack (tests.drills.stack) runs on throwaway servers of its own.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from tests.drills.stack import INTAKE_KEY, LOCK_KEY, Load, catch_up, settle

pytestmark = pytest.mark.drill

# How long after a fault ends every accepted signature must be written and its confirmation sent. Generous for a
# 2-core machine running the load, the site, its servers and the suite at once; the figures recorded are the truth.
RECOVERY_BOUND = 30.0


def _check(figures, stack, *, bound=RECOVERY_BOUND) -> None:
    context = f"{figures}\nweb log:\n{stack.log('web')[-2000:]}\nworker log:\n{stack.log('worker')[-3000:]}"
    assert figures.accepted > 50, context
    assert figures.statuses == {303: figures.requests}, context
    assert figures.lost == 0 and figures.duplicates == 0, context
    assert figures.mail_missing == 0 and figures.mail_twice == 0, context
    assert figures.rows_recovery_seconds is not None and figures.rows_recovery_seconds <= bound, context
    assert figures.mail_recovery_seconds is not None and figures.mail_recovery_seconds <= bound, context


def test_postgresql_stopped_for_three_seconds(stack):
    """The sign path answers from its petition snapshot and queues; the worker writes it all once the database is
    back."""
    petition = stack.open_petition("drill-postgres")
    with Load(stack, "drill-postgres", "pg") as load:
        time.sleep(2)
        stack.pg.stop(mode="immediate")
        time.sleep(1)
        pages = {path: stack.get(path) for path in (
            "/petitions/drill-postgres/",  # served from the page cache
            "/petitions/drill-postgres/revisions/",  # needs the database
            "/accounts/login/",
            "/healthz",
        )}  # fmt: skip
        time.sleep(2)
        stack.pg.start()
        ended = time.monotonic()
        recovery = catch_up(stack, load, petition, fault_ended=ended, bound=RECOVERY_BOUND)
    seen = ", ".join(f"{path} {status}" for path, (status, _h, _b) in pages.items())
    figures = settle(stack, load, petition, recovery=recovery, drill="postgres stopped 3 s", bound=RECOVERY_BOUND,
                     notes=f"during the outage: {seen}")  # fmt: skip
    _check(figures, stack)
    assert pages["/petitions/drill-postgres/"][0] == 200
    for path, (status, headers, _body) in pages.items():
        assert status in (200, 302, 503), (path, status)
        assert status != 503 or headers.get("Retry-After"), path
    assert b'"degraded"' in pages["/healthz"][2]
    outage_lines = stack.log("web").count("The database cannot be reached")
    assert 1 <= outage_lines <= 2 * 4, stack.log("web")[-3000:]  # one line per process (2 gunicorn workers)


def test_redis_without_persistence_killed_and_restarted(stack):
    """A Redis that does not persist turns the intake off (loudly), so nothing acknowledged lives only in Redis."""
    client = stack.redis_client()
    client.config_set("appendonly", "no")
    stack.redis.appendonly = False
    try:
        time.sleep(2.5)  # each web process asks Redis about persistence every second (the drill's setting)
        _status, _headers, body = stack.get("/healthz?detail=1")
        assert b"off (appendonly no)" in body, body
        petition = stack.open_petition("drill-redis-volatile")
        with Load(stack, "drill-redis-volatile", "volatile") as load:
            time.sleep(2)
            stack.redis.kill()
            time.sleep(1)
            stack.redis.start()
            ended = time.monotonic()
            recovery = catch_up(stack, load, petition, fault_ended=ended, bound=RECOVERY_BOUND)
        figures = settle(stack, load, petition, recovery=recovery, drill="redis without persistence killed",
                         bound=RECOVERY_BOUND)  # fmt: skip
    finally:
        stack.redis.appendonly = True
        stack.redis_client().config_set("appendonly", "yes")
    _check(figures, stack)
    assert "The signing intake is OFF" in stack.log("web")


def test_redis_killed_twice_with_its_append_only_file(stack):
    """Redis (appendonly, everysec, as in docker-compose.yml) killed under load twice: the intake survives in its
    append-only file, the worker survives the broker's loss or is started again, a pump cut off mid-batch releases
    its claims."""
    petition = stack.open_petition("drill-redis-aof")
    with Load(stack, "drill-redis-aof", "aof") as load:
        for _ in range(2):
            time.sleep(2)
            stack.redis.kill()
            time.sleep(1)
            stack.redis.start()
        ended = time.monotonic()
        recovery = catch_up(stack, load, petition, fault_ended=ended, bound=RECOVERY_BOUND)
    restarts = stack.log("worker").count("worker exited with code")
    figures = settle(stack, load, petition, recovery=recovery, drill="redis (aof everysec) killed twice",
                     bound=RECOVERY_BOUND, notes=f"worker restarted by its supervisor {restarts} time(s)")  # fmt: skip
    _check(figures, stack)


def test_worker_killed_mid_drain(stack):
    """SIGKILL to the worker process that holds the drain lock, and to its parent: the supervisor starts the worker
    again, the lock runs out in seconds, the batch is written once."""
    petition = stack.open_petition("drill-worker")
    client = stack.redis_client()
    with Load(stack, "drill-worker", "worker") as load:
        time.sleep(2)
        holder = None
        deadline = time.monotonic() + 10
        while holder is None and time.monotonic() < deadline:
            holder = client.get(LOCK_KEY)
        assert holder is not None, "no drain ran while signatures were coming in"
        pid = int(holder.decode().split(":")[1])
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        for victim in (pid, parent):
            os.kill(victim, signal.SIGKILL)
        ended = time.monotonic()
        recovery = catch_up(stack, load, petition, fault_ended=ended, bound=RECOVERY_BOUND)
    figures = settle(stack, load, petition, recovery=recovery, drill="worker SIGKILL mid-drain",
                     bound=RECOVERY_BOUND)  # fmt: skip
    _check(figures, stack)
    assert "worker exited with code" in stack.log("worker")


def test_a_malformed_entry_on_the_intake(stack):
    """An entry that is not a signature is set aside with its error; the rest drain."""
    petition = stack.open_petition("drill-malformed")
    client = stack.redis_client()
    with Load(stack, "drill-malformed", "malformed") as load:
        time.sleep(2)
        client.rpush(INTAKE_KEY, b'{"signed_at": 1767225600.0, "petition_id": "not a number"}')
        ended = time.monotonic()
        recovery = catch_up(stack, load, petition, fault_ended=ended, bound=RECOVERY_BOUND)
    figures = settle(stack, load, petition, recovery=recovery, drill="malformed intake entry",
                     bound=RECOVERY_BOUND)  # fmt: skip
    _check(figures, stack)
    failures = stack.sql("SELECT entry, error FROM signatures_intakefailure")
    assert len(failures) == 1 and "not a number" in failures[0][0], failures
    assert failures[0][1], "the failure records its error"
