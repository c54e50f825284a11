"""Celery entry points of the signature ledger: thin, taking ids, safe to run twice."""

from celery import shared_task

from core.outage import while_database_down


@shared_task(acks_late=True, ignore_result=True)
@while_database_down()
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
    from signatures.services.intake import signature_intake_records_purge
    from signatures.services.privacy import signatures_pending_purge

    signature_intake_records_purge()
    return signatures_pending_purge()


@shared_task(acks_late=True, ignore_result=True)
@while_database_down()
def signature_intake_drain_task() -> int:
    """Nudged by the sign view, and every second by beat; on the counts queue, ahead of any e-mail backlog."""
    from signatures.services.intake import signature_intake_drain

    return signature_intake_drain()


# --- Deliverables: packets -------------------------------------------------------------------------------------------
# Long jobs: bounded by VIGIL_LONG_TASK_TIME_LIMIT (the broker's visibility timeout exceeds it, so Redis never hands a
# running job to a second worker); retried with backoff on transient database and file-system errors only.

from core.jobs import TRANSIENT_ERRORS as TRANSIENT  # noqa: E402
from core.jobs import long_job_options  # noqa: E402


@shared_task(**long_job_options())
def packet_export_task(self, export_id: int) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    from signatures.services.packets import packet_export_fail, packet_export_run

    try:
        packet_export_run(export_id=export_id)
    except SoftTimeLimitExceeded:
        packet_export_fail(export_id=export_id, error="The export took longer than the time allowed for it.")
    except TRANSIENT:
        raise
    except Exception as exc:
        packet_export_fail(export_id=export_id, error=f"The export failed: {exc}")
        raise


@shared_task(acks_late=True)
def packet_exports_expire_task() -> int:
    from signatures.services.packets import packet_exports_expire

    return packet_exports_expire()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def signon_logo_render_task(signon_id: int) -> None:
    from signatures.services.signon import signon_logo_render

    signon_logo_render(signon_id=signon_id)
