"""Celery entry points for petitions: thin, taking ids, safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True)
def petitions_lifecycle_due_task() -> dict:
    from petitions.services import petitions_lifecycle_due

    return petitions_lifecycle_due()


@shared_task(acks_late=True)
def petitions_anonymise_due_task() -> int:
    from petitions.services import petitions_anonymise_due

    return petitions_anonymise_due()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def petition_image_render_task(petition_id: int) -> None:
    from petitions.services import petition_image_render

    petition_image_render(petition_id=petition_id)
