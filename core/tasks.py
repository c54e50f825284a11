from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from core.jobs import enqueue
from core.outage import while_database_down
from core.privacy import privacy_sweep
from core.services.outbox import DeliveryError, outbound_email_pump, outbound_email_send, outbound_email_sweep

WORKER_HEARTBEAT_KEY = "core:worker-heartbeat"


@shared_task(bind=True, acks_late=True, max_retries=6, retry_backoff=30, retry_backoff_max=1800)
def outbound_email_send_task(self, email_id: int) -> None:
    try:
        outbound_email_send(email_id=email_id)
    except DeliveryError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(acks_late=True)
def outbound_email_sweep_task() -> int:
    ids = outbound_email_sweep()
    for email_id in ids:
        enqueue("core.tasks.outbound_email_send_task", email_id)
    return len(ids)


@shared_task
def worker_heartbeat_task() -> None:
    """Beat's proof of life: /healthz reports how long ago a worker last ran this."""
    cache.set(WORKER_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=3600)


@shared_task(acks_late=True)
def ping_task(token: str) -> None:
    """End-to-end check of the queue: `manage.py worker_ping` queues it and waits for the worker's answer."""
    cache.set(f"core:ping:{token}", timezone.now().isoformat(), timeout=600)


@shared_task(acks_late=True, ignore_result=True)
@while_database_down()
def outbound_email_pump_task() -> int:
    """Beat runs this every VIGIL_OUTBOX_PUMP_SECONDS (and a busy web process nudges it at most once a second):
    deliver the bulk-written outbox rows in claimed batches. Concurrent runs share the work; none sends twice."""
    return outbound_email_pump()


@shared_task(acks_late=True, ignore_result=True)
@while_database_down(default={})
def privacy_rules_task() -> dict:
    """Hourly: the privacy rules that have no task of their own (config/privacy.py says which)."""
    return privacy_sweep(only=lambda item: item.task == "core.tasks.privacy_rules_task (hourly)")
