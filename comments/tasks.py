from celery import shared_task

from comments.services.counts import comment_counts_reconcile


@shared_task(acks_late=True)
def comment_counts_reconcile_task() -> dict[str, int]:
    """Hourly (beat): rebuild comment counts, thread reply counts, open-flag counts and the queue sizes."""
    return comment_counts_reconcile()
