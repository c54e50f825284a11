"""Celery entry points of the signature ledger: thin, taking ids, safe to run twice."""

from celery import shared_task

from core.outage import while_database_down
from signatures.services.counts import signature_counts_flush, signature_counts_reconcile_all
from signatures.services.intake import signature_intake_drain, signature_intake_records_purge
from signatures.services.privacy import signatures_pending_purge
from signatures.services.reminders import signatures_remind_due


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
