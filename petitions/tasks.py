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


# --- Deliverables: compiles and deliveries ---------------------------------------------------------------------------
# Long jobs are bounded by VIGIL_LONG_TASK_TIME_LIMIT, which the broker's visibility timeout exceeds; transient
# database and connection errors are retried with backoff, anything else is recorded on the row for the organiser.

from core.jobs import TRANSIENT_ERRORS as TRANSIENT  # noqa: E402
from core.jobs import long_job_options  # noqa: E402


@shared_task(**long_job_options())
def letter_compile_task(self, compile_id: int) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    from petitions.services_letters import letter_compile_fail, letter_compile_run

    try:
        letter_compile_run(compile_id=compile_id)
    except SoftTimeLimitExceeded:
        letter_compile_fail(compile_id=compile_id, error="Compiling took longer than the time allowed for it.")
    except TRANSIENT:
        raise
    except Exception as exc:
        letter_compile_fail(compile_id=compile_id, error=f"Compiling failed: {exc}")
        raise


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=TRANSIENT, retry_backoff=5,
             retry_backoff_max=300, max_retries=8)  # fmt: skip
def delivery_send_task(self, delivery_id: int) -> None:
    from petitions.services_delivery import delivery_send

    delivery_send(delivery_id=delivery_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=TRANSIENT, retry_backoff=5,
             retry_backoff_max=300, max_retries=8)  # fmt: skip
def delivery_updates_task(self, delivery_id: int) -> None:
    """One batch of signers' updates, then the next batch as a task of its own."""
    from petitions.services_delivery import delivery_updates_send

    if delivery_updates_send(delivery_id=delivery_id):
        delivery_updates_task.delay(delivery_id)


@shared_task(acks_late=True)
def deliverables_requeue_stale_task() -> dict:
    from petitions.services_letters import compiles_requeue_stale
    from signatures.services.packets import packet_exports_requeue_stale

    return {"packets": packet_exports_requeue_stale(), "compiles": compiles_requeue_stale()}
