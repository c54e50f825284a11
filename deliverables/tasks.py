"""Celery entry points for deliverables: thin, taking ids, safe to run twice.

Long jobs (compiles, packets) are bounded by VIGIL_LONG_TASK_TIME_LIMIT, which the broker's visibility timeout
exceeds; transient database and connection errors are retried with backoff, anything else is recorded on the job's
row, where the organiser sees it.
"""

from collections.abc import Callable

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from core.jobs import TRANSIENT_ERRORS, enqueue, long_job_options
from deliverables.services.delivery import delivery_send, delivery_updates_send
from deliverables.services.jobs import jobs_requeue_stale
from deliverables.services.letters import letter_compile_fail, letter_compile_run
from deliverables.services.packets import (
    packet_export_fail,
    packet_export_run,
    packet_exports_expire,
)
from deliverables.services.signons import signon_logo_render


def _long_job(run: Callable[[], object], fail: Callable[[str], object], *, what: str) -> None:
    """Run a job; a job past its soft time limit, or one that fails for good, is marked failed on its row (where the
    organiser sees why) and a transient error is left to Celery's retry."""
    try:
        run()
    except SoftTimeLimitExceeded:
        fail(f"{what} took longer than the time allowed for it.")
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        fail(f"{what} failed: {exc}")
        raise


@shared_task(**long_job_options())
def letter_compile_task(self, compile_id: int) -> None:
    _long_job(
        lambda: letter_compile_run(compile_id=compile_id),
        lambda error: letter_compile_fail(compile_id=compile_id, error=error),
        what="Compiling",
    )


@shared_task(**long_job_options())
def packet_export_task(self, export_id: int) -> None:
    _long_job(
        lambda: packet_export_run(export_id=export_id),
        lambda error: packet_export_fail(export_id=export_id, error=error),
        what="The export",
    )


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5,
             retry_backoff_max=300, max_retries=8)  # fmt: skip
def delivery_send_task(self, delivery_id: int) -> None:
    delivery_send(delivery_id=delivery_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5,
             retry_backoff_max=300, max_retries=8)  # fmt: skip
def delivery_updates_task(self, delivery_id: int) -> None:
    """One batch of signers' updates, then the next batch as a task of its own."""
    if delivery_updates_send(delivery_id=delivery_id):
        enqueue("deliverables.tasks.delivery_updates_task", delivery_id)


@shared_task(acks_late=True)
def deliverables_requeue_stale_task() -> dict:
    return jobs_requeue_stale()


@shared_task(acks_late=True)
def packet_exports_expire_task() -> int:
    return packet_exports_expire()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def signon_logo_render_task(signon_id: int) -> None:
    signon_logo_render(signon_id=signon_id)
