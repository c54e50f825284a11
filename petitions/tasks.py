"""Celery entry points for petitions: thin, taking ids, safe to run twice."""

from celery import shared_task
from django.conf import settings

from core.jobs import TRANSIENT_ERRORS, enqueue_later
from petitions.services.alerts import petition_bursts_alert
from petitions.services.editing import petition_image_render
from petitions.services.lifecycle import petitions_anonymise_due, petitions_lifecycle_due
from petitions.services.mailings import update_mailing_queue, update_mailings_sweep
from petitions.services.thresholds import petition_thresholds_handle
from petitions.services.updates import petition_update_image_render


@shared_task(acks_late=True)
def petitions_lifecycle_due_task() -> dict:
    return petitions_lifecycle_due()


@shared_task(acks_late=True)
def petitions_anonymise_due_task() -> int:
    return petitions_anonymise_due()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def petition_image_render_task(petition_id: int) -> None:
    petition_image_render(petition_id=petition_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def petition_update_image_render_task(update_id: int) -> None:
    petition_update_image_render(update_id=update_id)


@shared_task(acks_late=True, ignore_result=True)
def petition_thresholds_handle_task() -> int:
    """After a count flush crossed a threshold, and every five minutes (beat): tell the organisers, draft the update."""
    return petition_thresholds_handle()


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5,
             retry_backoff_max=300, max_retries=8, ignore_result=True)  # fmt: skip
def update_mailing_queue_task(mailing_id: int) -> None:
    """Queue one batch of a mailing's messages, then the next as a task of its own, paced to
    VIGIL_UPDATE_MAILING_QUEUE_RATE messages a second: other tasks (a surge's signatures) take their turn between
    batches, and the database's share of the work is spread over half a minute for 150,000 signers."""
    if update_mailing_queue(mailing_id=mailing_id):
        pause = settings.VIGIL_UPDATE_MAILING_BATCH / settings.VIGIL_UPDATE_MAILING_QUEUE_RATE
        enqueue_later(pause, "petitions.tasks.update_mailing_queue_task", mailing_id)


@shared_task(acks_late=True, ignore_result=True)
def petition_bursts_alert_task() -> int:
    return petition_bursts_alert()


@shared_task(acks_late=True, ignore_result=True)
def update_mailings_sweep_task() -> dict:
    return update_mailings_sweep()
