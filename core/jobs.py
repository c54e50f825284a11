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
    queued = Queued(task_named(name), args, kwargs)
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

    @property
    def name(self) -> str:
        return self.task.name

    def __call__(self) -> None:
        try:
            self.task.apply_async(args=self.args, kwargs=self.kwargs)
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
