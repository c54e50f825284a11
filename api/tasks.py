"""Celery entry points of the API app: thin, safe to run twice."""

from celery import shared_task

from api.services.tokens import api_calls_drain, api_calls_purge
from api.services.webhooks import webhook_log_purge, webhooks_pump
from core.outage import while_database_down


@shared_task(acks_late=True, ignore_result=True)
@while_database_down()
def webhooks_pump_task() -> int:
    """Every second (beat), and nudged after events commit: fan out new events, send what endpoints are owed."""
    return webhooks_pump()


@shared_task(acks_late=True)
def api_logs_purge_task() -> int:
    """Hourly: the webhook events and their log, and the log of API calls, past their time."""
    return webhook_log_purge() + api_calls_purge()


@shared_task(acks_late=True, ignore_result=True)
@while_database_down()
def api_calls_drain_task() -> int:
    """Every few seconds (beat): the calls logged in Redis, into the table."""
    return api_calls_drain()
