"""A real Celery worker runs what committed transactions queued, and nothing from rolled-back ones."""

import uuid

import pytest
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction

from core.models import OutboundEmail
from core.tasks import ping_task
from tests.utils import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


class Rollback(Exception):
    pass


def _answered(token: str) -> bool:
    return cache.get(f"core:ping:{token}") is not None


def test_task_queued_in_committed_transaction_runs(celery_worker):
    token = uuid.uuid4().hex
    with transaction.atomic():
        transaction.on_commit(lambda: ping_task.delay(token))
        assert not _answered(token)
    assert wait_for(lambda: _answered(token), timeout=20), celery_worker.log()


def test_task_queued_in_rolled_back_transaction_never_runs(celery_worker):
    lost, sentinel = uuid.uuid4().hex, uuid.uuid4().hex
    with pytest.raises(Rollback), transaction.atomic():
        transaction.on_commit(lambda: ping_task.delay(lost))
        raise Rollback
    # The worker takes tasks in order with one process: once the later sentinel has run, the lost one would have too.
    ping_task.delay(sentinel)
    assert wait_for(lambda: _answered(sentinel), timeout=20), celery_worker.log()
    assert not _answered(lost)


def test_email_from_committed_transaction_is_delivered_once_by_the_worker(celery_worker):
    subject = f"Committed {uuid.uuid4().hex}"
    with transaction.atomic():
        send_mail(subject, "Body text", None, ["someone@example.org"])
    row = OutboundEmail.objects.get(subject=subject)
    assert wait_for(lambda: OutboundEmail.objects.get(pk=row.pk).sent_at is not None, timeout=20), celery_worker.log()
    delivered = [mail for mail in celery_worker.delivered_mail() if subject in mail]
    assert len(delivered) == 1
    assert row.message_id in delivered[0]


def test_email_from_rolled_back_transaction_is_neither_stored_nor_sent(celery_worker):
    subject = f"Rolled back {uuid.uuid4().hex}"
    with pytest.raises(Rollback), transaction.atomic():
        send_mail(subject, "Body text", None, ["someone@example.org"])
        raise Rollback
    sentinel = f"Sentinel {uuid.uuid4().hex}"
    send_mail(sentinel, "Body text", None, ["someone@example.org"])
    assert wait_for(lambda: any(sentinel in mail for mail in celery_worker.delivered_mail()), timeout=20), (
        celery_worker.log()
    )
    assert not OutboundEmail.objects.filter(subject=subject).exists()
    assert not any(subject in mail for mail in celery_worker.delivered_mail())
