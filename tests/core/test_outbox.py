"""The e-mail outbox: written with the change, delivered once, failures recorded where staff can see them."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.test import override_settings
from django.utils import timezone

from core.mail import outbound_email_queue
from core.models import OutboundEmail
from core.services import DeliveryError, outbound_email_send, outbound_email_sweep

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
