"""How work is queued, and what long Celery jobs (exports, compiles, deliveries) share.

- `enqueue(name, *args)` is the one way services queue a task: by the task's registered name, after the current
  transaction commits (at once outside one), so a worker never looks for a row that is not there yet; and without
  importing the tasks module at the call site, so services never import tasks (tasks import services).
- Long jobs are bounded by VIGIL_LONG_TASK_TIME_LIMIT; the broker's visibility timeout exceeds it (settings refuse
  otherwise), so Redis never hands a running job to a second worker. They retry with backoff on transient database
  and connection errors only; anything else is recorded on the job's row, where the organiser sees it.
"""

import logging
from dataclasses import dataclass
from importlib import import_module

from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


def task_named(name: str) -> Task:
    """The task registered as `name` ("app.tasks.function"), importing its module: outside a worker Celery does not
    import task modules by itself. A name that is not a task is a programming error and raises LookupError."""
    module_name, _, attribute = name.rpartition(".")
    try:
        task = getattr(import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise LookupError(f"No task is registered as {name!r}") from exc
    if not isinstance(task, Task) or task.name != name:
        raise LookupError(f"{name!r} is not a task registered under that name")
    return task


def enqueue(name: str, *args, **kwargs) -> None:
    """Queue the task `name` with these arguments (ids and ISO strings) once the current transaction commits.

    A broker that cannot be reached at that moment is logged, not raised: the change is committed either way, and
    the work that must not be lost has a sweep that beat runs (the outbox, stale compiles and packets, the intake).
    """
    _send(Queued(task_named(name), args, kwargs))


def enqueue_later(seconds: float, name: str, *args) -> None:
    """As enqueue, to run no sooner than `seconds` from now (work that paces itself, such as a mailing's batches)."""
    _send(Queued(task_named(name), args, {}, countdown=seconds))


def _send(queued: "Queued") -> None:
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(queued)
    else:
        # Outside a transaction on_commit() would run it at once too, but only after asking the database for its
        # autocommit state: the sign path queues its drain while PostgreSQL may be down, and must not need it.
        queued()


@dataclass(frozen=True)
class Queued:
    """A task waiting for the commit that sends it (the on_commit callback; tests read its task's name)."""

    task: Task
    args: tuple
    kwargs: dict
    countdown: float | None = None

    @property
    def name(self) -> str:
        return self.task.name

    def __call__(self) -> None:
        try:
            self.task.apply_async(args=self.args, kwargs=self.kwargs, countdown=self.countdown)
        except Exception:
            logger.warning("Could not queue %s%r: it waits for a sweep or a retry", self.name, self.args, exc_info=True)


def long_job_options() -> dict:
    limit = settings.VIGIL_LONG_TASK_TIME_LIMIT
    return {
        "bind": True,
        "acks_late": True,
        "reject_on_worker_lost": True,
        "autoretry_for": TRANSIENT_ERRORS,
        "retry_backoff": 5,
        "retry_backoff_max": 300,
        "max_retries": 5,
        "time_limit": limit,
        "soft_time_limit": max(limit - 30, limit * 0.8),
    }


def tasks_waiting() -> int:
    """How many tasks wait in the broker's queue for a free worker process (0 without a broker, or when it cannot
    be asked). Work that may wait (a bulk mailing) gives way while this is not 0: with a prefetch of one, a task
    waits here only when every worker process is busy."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return 0
    from celery import current_app

    try:
        with current_app.pool.acquire(block=True, timeout=1) as connection:
            client = getattr(connection.default_channel, "client", None)
            return int(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE)) if client is not None else 0
    except Exception:
        logger.debug("Could not read the broker's queue length", exc_info=True)
        return 0


_cpu_sample: tuple[float, int, int] | None = None  # (when, idle ticks, all ticks) at the last look


def machine_busy(*, min_idle: float, min_interval: float = 0.1) -> bool:
    """Whether the machine's CPUs were idle less than `min_idle` (a share, 0-1) since this process last looked, at
    least `min_interval` seconds ago (Linux /proc/stat; False elsewhere, or when looked at too recently). Work that
    may wait (a bulk mailing) pauses while it is true: pages and signing come first."""
    global _cpu_sample
    import time

    now = time.monotonic()
    if _cpu_sample is not None and now - _cpu_sample[0] < min_interval:
        return False
    try:
        with open("/proc/stat") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return False
    idle, total = fields[3] + fields[4], sum(fields[:8])  # idle and iowait; user to steal
    previous, _cpu_sample = _cpu_sample, (now, idle, total)
    if previous is None or total == previous[2]:
        return False
    return (idle - previous[1]) / (total - previous[2]) < min_idle
