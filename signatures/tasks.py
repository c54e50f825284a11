"""Celery entry points of the signature ledger: thin, taking ids, safe to run twice."""

from celery import shared_task

from core.jobs import TRANSIENT_ERRORS, enqueue
from core.outage import while_database_down
from signatures.services.counts import signature_counts_flush, signature_counts_reconcile_all
from signatures.services.intake import signature_intake_drain, signature_intake_records_purge
from signatures.services.privacy import signatures_pending_purge
from signatures.services.reminders import signatures_remind_due
from signatures.services.review import invalidation_step, invalidations_sweep


@shared_task(acks_late=True, ignore_result=True)
@while_database_down()
def signature_counts_flush_task() -> int:
    """Every few seconds (beat), on its own queue so that a backlog of e-mail never holds the counts back."""
    return signature_counts_flush()


@shared_task(acks_late=True)
def signature_counts_reconcile_task() -> int:
    return signature_counts_reconcile_all()


@shared_task(acks_late=True)
def signatures_pending_purge_task() -> int:
    signature_intake_records_purge()
    return signatures_pending_purge()


@shared_task(acks_late=True, ignore_result=True)
@while_database_down()
def signature_intake_drain_task() -> int:
    """Nudged by the sign view, and every second by beat; on the counts queue, ahead of any e-mail backlog."""
    return signature_intake_drain()


@shared_task(acks_late=True, ignore_result=True)
@while_database_down()
def signatures_remind_due_task() -> int:
    """Every ten minutes (beat): the one reminder to signers who have not confirmed."""
    return signatures_remind_due()


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5,
             retry_backoff_max=300, max_retries=8, ignore_result=True)  # fmt: skip
def invalidation_step_task(job_id: int) -> None:
    """One batch of an invalidation job (or of its reversal), then the next as a task of its own, so that other
    work (a surge's signatures) takes its turn between batches."""
    if invalidation_step(job_id=job_id):
        enqueue("signatures.tasks.invalidation_step_task", job_id)


@shared_task(acks_late=True, ignore_result=True)
def signature_invalidations_sweep_task() -> int:
    """Every minute (beat): jobs whose worker stopped mid-run, queued again from where they stopped."""
    return invalidations_sweep()
