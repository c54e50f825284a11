"""What long Celery jobs (exports, compiles, deliveries) share: which errors are worth a retry, and their limits.

Long jobs are bounded by VIGIL_LONG_TASK_TIME_LIMIT; the broker's visibility timeout exceeds it (settings refuse
otherwise), so Redis never hands a running job to a second worker. They retry with backoff on transient database
and connection errors only; anything else is recorded on the job's row, where the organiser sees it.
"""

from django.conf import settings
from django.db import InterfaceError, OperationalError

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


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
