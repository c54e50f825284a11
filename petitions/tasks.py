"""Celery entry points for petitions: thin, taking ids, safe to run twice."""

from celery import shared_task

from petitions.services.editing import petition_image_render
from petitions.services.lifecycle import petitions_anonymise_due, petitions_lifecycle_due
from petitions.services.thresholds import petition_thresholds_handle


@shared_task(acks_late=True)
def petitions_lifecycle_due_task() -> dict:
    return petitions_lifecycle_due()


@shared_task(acks_late=True)
def petitions_anonymise_due_task() -> int:
    return petitions_anonymise_due()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def petition_image_render_task(petition_id: int) -> None:
    petition_image_render(petition_id=petition_id)


@shared_task(acks_late=True, ignore_result=True)
def petition_thresholds_handle_task() -> int:
    """After a count flush crossed a threshold, and every five minutes (beat): tell the organisers, draft the update."""
    return petition_thresholds_handle()
