"""Celery entry points of the signature ledger: thin, taking ids, safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def signature_counts_flush_task() -> int:
    """Every few seconds (beat), on its own queue so that a backlog of e-mail never holds the counts back."""
    from signatures.services.counts import signature_counts_flush

    return signature_counts_flush()


@shared_task(acks_late=True)
def signature_counts_reconcile_task() -> int:
    from signatures.services.counts import signature_counts_reconcile_all

    return signature_counts_reconcile_all()


@shared_task(acks_late=True)
def signatures_pending_purge_task() -> int:
    from signatures.services.privacy import signatures_pending_purge

    return signatures_pending_purge()
