"""The e-mail outbox: written with the change, delivered once, failures recorded where staff can see them."""

import os
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from core.mail import outbound_email_queue
from core.models import OutboundEmail
from core.services import outbox
from core.services.outbox import (
    DeliveryError,
    _outbox_claim,
    outbound_email_pump,
    outbound_email_send,
    outbound_email_sweep,
)

pytestmark = pytest.mark.django_db


def test_send_mail_writes_an_outbox_row_and_queues_delivery_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        send_mail("Hello", "Plain body", None, ["a@example.org"])
    row = OutboundEmail.objects.get()
    assert (row.subject, row.body_text, row.to, row.sent_at) == (
        "Hello",
        "Plain body",
        ["a@example.org"],
        None,
    )
    assert row.message_id.startswith("<") and row.headers["Message-ID"] == row.message_id
    assert len(callbacks) == 1
    assert mail.outbox == []  # nothing is delivered inside the request


def test_html_alternative_is_kept():
    message = EmailMultiAlternatives("Hi", "text", None, ["a@example.org"])
    message.attach_alternative("<p>html</p>", "text/html")
    message.send()
    assert OutboundEmail.objects.get().body_html == "<p>html</p>"


def test_delivery_sends_once_even_when_called_twice():
    send_mail("Once", "Body", None, ["a@example.org"])
    row = OutboundEmail.objects.get()
    outbound_email_send(email_id=row.pk)
    outbound_email_send(email_id=row.pk)
    assert [m.subject for m in mail.outbox] == ["Once"]
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 1


def test_idempotency_key_stores_one_message():
    first = outbound_email_queue(EmailMultiAlternatives("A", "b", None, ["a@example.org"]), idempotency_key="k:1")
    second = outbound_email_queue(EmailMultiAlternatives("A", "b", None, ["a@example.org"]), idempotency_key="k:1")
    assert first is not None and second is None
    assert OutboundEmail.objects.count() == 1


@override_settings(
    VIGIL_EMAIL_DELIVERY_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="127.0.0.1",
    EMAIL_PORT=1,  # nothing listens there: a real refused connection
    EMAIL_TIMEOUT=2,
    VIGIL_OUTBOX_MAX_ATTEMPTS=2,
)
def test_failed_delivery_is_recorded_then_given_up():
    send_mail("Unlucky", "Body", None, ["a@example.org"])
    row = OutboundEmail.objects.get()
    with pytest.raises(DeliveryError):
        outbound_email_send(email_id=row.pk)
    row.refresh_from_db()
    assert row.attempts == 1 and "ConnectionRefused" in row.last_error and row.status == "queued"
    outbound_email_send(email_id=row.pk)  # the last attempt fails quietly: the row says so
    row.refresh_from_db()
    assert row.attempts == 2 and row.failed_at is not None and row.status == "failed"


def test_sweep_finds_messages_whose_delivery_was_lost():
    now = timezone.now()
    send_mail("Old", "Body", None, ["a@example.org"])
    send_mail("Fresh", "Body", None, ["a@example.org"])
    send_mail("Sent", "Body", None, ["a@example.org"])
    OutboundEmail.objects.filter(subject__in=["Old", "Sent"]).update(created_at=now - timedelta(minutes=10))
    OutboundEmail.objects.filter(subject="Sent").update(sent_at=now)
    old = OutboundEmail.objects.get(subject="Old")
    assert outbound_email_sweep(now=now) == [old.pk]


# --- Deferred rendering and the outbox pump -------------------------------------------------------------------------


def render_test_mail(context: dict) -> tuple[str, str, str]:
    """A renderer for rows written unrendered (settings.VIGIL_OUTBOX_RENDERERS["test"] in these tests)."""
    return f"Message {context['n']}", f"Body {context['n']}", f"<p>Body {context['n']}</p>"


RENDERERS = {"test": "tests.core.test_outbox.render_test_mail"}


def _deferred_rows(count: int, **fields) -> list[OutboundEmail]:
    return OutboundEmail.objects.bulk_create(
        OutboundEmail(
            from_email="noreply@example.org",
            to=[f"person{n}@example.org"],
            subject="",
            body_text="",
            render_kind="test",
            render_context={"n": n},
            message_id=f"<m{n}@test>",
            headers={"Message-ID": f"<m{n}@test>"},
            **fields,
        )
        for n in range(count)
    )


@override_settings(VIGIL_OUTBOX_RENDERERS=RENDERERS)
def test_a_deferred_row_is_rendered_at_delivery_and_sent_once():
    [row] = _deferred_rows(1)
    assert outbound_email_pump() == 1
    assert outbound_email_pump() == 0
    [message] = mail.outbox
    assert (message.subject, message.body, message.to) == ("Message 0", "Body 0", ["person0@example.org"])
    assert message.alternatives[0][0] == "<p>Body 0</p>"
    assert message.extra_headers["Message-ID"] == "<m0@test>"
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 1 and row.claimed_until is None


@override_settings(VIGIL_OUTBOX_RENDERERS=RENDERERS)
def test_the_pump_leaves_ordinary_mail_to_its_delivery_task():
    send_mail("Ordinary", "Body", None, ["a@example.org"])
    assert outbound_email_pump() == 0
    assert OutboundEmail.objects.get().sent_at is None


@override_settings(VIGIL_OUTBOX_RENDERERS=RENDERERS)
def test_a_delivery_task_leaves_a_row_the_pump_has_claimed_alone():
    [row] = _deferred_rows(1)
    now = timezone.now()
    assert _outbox_claim(now=now, batch=10) == [row.pk]
    outbound_email_send(email_id=row.pk, now=now)  # e.g. the sweep's task, while the pump is sending it
    assert mail.outbox == [] and OutboundEmail.objects.get().sent_at is None
    assert _outbox_claim(now=now, batch=10) == []  # nor does a second pump take it
    # The pump died: once its claim expires, the row is delivered, once.
    later = now + timedelta(seconds=301)
    outbound_email_send(email_id=row.pk, now=later)
    assert [m.subject for m in mail.outbox] == ["Message 0"]


@override_settings(
    VIGIL_OUTBOX_RENDERERS=RENDERERS,
    VIGIL_EMAIL_DELIVERY_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="127.0.0.1",
    EMAIL_PORT=1,  # nothing listens there: a real refused connection
    EMAIL_TIMEOUT=2,
)
def test_the_pump_records_a_failed_delivery_and_retries_after_a_pause(caplog):
    [row] = _deferred_rows(1)
    assert outbound_email_pump() == 0
    row.refresh_from_db()
    assert row.attempts == 1 and "ConnectionRefused" in row.last_error and row.claimed_until is None
    assert row.status == "queued" and "not delivered" in caplog.text
    assert outbound_email_pump() == 0  # too soon: the row waits out its back-off
    row.refresh_from_db()
    assert row.attempts == 1


@pytest.mark.django_db(transaction=True)
@override_settings(VIGIL_OUTBOX_RENDERERS=RENDERERS)
def test_concurrent_pumps_send_every_message_exactly_once():
    rows = _deferred_rows(300)
    barrier = threading.Barrier(4)
    sent: list[int] = [0] * 4

    def pump(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            sent[i] = outbound_email_pump(batch=7)
        finally:
            connection.close()

    threads = [threading.Thread(target=pump, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    message_ids = Counter(message.extra_headers["Message-ID"] for message in mail.outbox)
    assert len(message_ids) == 300 and set(message_ids.values()) == {1}
    assert sum(sent) == 300 and sum(1 for n in sent if n) > 1  # the work was shared
    assert set(OutboundEmail.objects.values_list("attempts", flat=True)) == {1}
    assert not OutboundEmail.objects.filter(pk__in=[row.pk for row in rows], sent_at__isnull=True).exists()


# --- Bulk mailings: after one-to-one mail, one pump at a time, at a lower priority ---------------------------------


@override_settings(VIGIL_OUTBOX_RENDERERS=RENDERERS)
def test_one_to_one_mail_goes_before_a_bulk_mailing_written_earlier():
    bulk = _deferred_rows(5, mailing="update:1")
    [confirmation] = _deferred_rows(1)
    assert outbound_email_pump(batch=2, max_seconds=0) >= 1
    assert mail.outbox[0].extra_headers["Message-ID"] == confirmation.message_id
    while outbound_email_pump(batch=2):
        pass
    assert len(mail.outbox) == 6
    sent = OutboundEmail.objects.filter(pk__in=[row.pk for row in bulk])
    assert set(sent.values_list("attempts", flat=True)) == {1} and not sent.filter(sent_at__isnull=True).exists()


@override_settings(VIGIL_OUTBOX_RENDERERS=RENDERERS)
def test_while_one_pump_sends_bulk_mail_the_others_send_one_to_one_mail_only():
    _deferred_rows(3, mailing="update:1")
    [confirmation] = _deferred_rows(1)
    cache.set(outbox._BULK_TURN, "another pump", timeout=60)
    try:
        assert outbound_email_pump() == 1
        assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [confirmation.message_id]
    finally:
        cache.delete(outbox._BULK_TURN)
    assert outbound_email_pump() == 3


@pytest.mark.django_db(transaction=True)
@override_settings(VIGIL_OUTBOX_BULK_NICE=15)
def test_bulk_mail_is_sent_from_a_thread_of_lower_priority_with_its_own_connection():
    def inside() -> tuple[int, int, int]:
        thread = threading.get_native_id()
        return thread, os.getpriority(os.PRIO_PROCESS, thread), OutboundEmail.objects.count()

    _deferred_rows(2)
    thread, nice, rows = outbox._at_low_priority(inside)
    assert thread != threading.get_native_id() and nice == max(15, os.getpriority(os.PRIO_PROCESS, 0))
    assert rows == 2  # it reads the database through a connection of its own


def test_the_machine_is_busy_when_its_cpus_were_idle_less_than_asked():
    from core import jobs

    jobs._cpu_sample = None
    assert jobs.machine_busy(min_idle=2.0, min_interval=0) is False  # the first look has nothing to compare with
    time.sleep(0.05)
    sum(range(2_000_000))  # some ticks pass
    assert jobs.machine_busy(min_idle=2.0, min_interval=0) is True  # never idle 200 % of the time
    time.sleep(0.05)
    assert jobs.machine_busy(min_idle=0.0, min_interval=0) is False
    assert jobs.machine_busy(min_idle=2.0, min_interval=60) is False  # looked at too recently to say


def test_tasks_waiting_counts_the_messages_in_the_brokers_queue():
    import redis
    from django.conf import settings

    from core.jobs import tasks_waiting

    queue = f"waiting-{os.getpid()}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(queue)
    with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
        assert tasks_waiting() == 0
        client.rpush(queue, "a", "b", "c")
        try:
            assert tasks_waiting() == 3
        finally:
            client.delete(queue)
