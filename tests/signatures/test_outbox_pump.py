"""Confirmation e-mails are written unrendered with the signature and delivered by the outbox pump.

What a signer relies on: the e-mail they get is exactly the one rendering at signing would have produced (its link
stamped with the time they signed), it arrives when the broker was down as they signed, it arrives in the embedded
`make run` mode with no broker at all, and it arrives once.
"""

import logging
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
import time_machine
from django.conf import settings
from django.core import mail
from django.core import signing as django_signing
from django.core.mail.backends import locmem
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import OutboundEmail
from core.services import outbox
from core.services.outbox import outbound_email_pump
from core.tasks import outbound_email_pump_task
from signatures.models import Signature
from signatures.ratelimits import _key, sign_email_limit_value
from signatures.services import signing
from tests.petitions.factories import OpenPetitionFactory
from tests.signatures.helpers import form_data, link_in, outbox_rows, sign
from tests.utils import wait_for


def _rendered_at_signing(signature: Signature, template: str, subject: str) -> tuple[str, str, str]:
    """The e-mail as it was built when the request rendered it (the behaviour before deferred rendering)."""

    def absolute(path: str) -> str:
        return f"{settings.VIGIL_LINK_SCHEME}://{settings.VIGIL_SITE_DOMAIN}{path}"

    value = f"{signature.pk}.{signature.generation}"
    context = {
        "signature": signature,
        "petition": signature.petition,
        "petition_url": absolute(signature.petition.get_absolute_url()),
        "confirm_url": absolute(reverse("petitions:signature_confirm", args=[
            django_signing.TimestampSigner(salt=signing.CONFIRM_SALT).sign(value)])),
        "withdraw_url": absolute(reverse("petitions:signature_withdraw", args=[
            django_signing.TimestampSigner(salt=signing.WITHDRAW_SALT).sign(value)])),
        "site_name": settings.SITE_NAME,
        "max_age_days": settings.VIGIL_SIGNATURE_CONFIRM_MAX_AGE // 86400,
    }  # fmt: skip
    return (
        f"[{settings.SITE_NAME}] {subject}",
        render_to_string(f"signatures/email/{template}.txt", context),
        render_to_string(f"signatures/email/{template}.html", context),
    )


@pytest.mark.django_db
def test_the_confirmation_rendered_later_is_the_one_rendering_at_signing_gave(petition):
    signed_at = timezone.now().replace(microsecond=0)
    with time_machine.travel(signed_at, tick=False):
        result = sign(petition, "Zoe.Ann+x@Gmail.com", first_name="Zoë")
        signature = Signature.objects.select_related("petition").get(pk=result.signature_id)
        expected = _rendered_at_signing(signature, "confirm", "Confirm your signature")
    [row] = OutboundEmail.objects.all()
    assert row.body_text == "" and row.render_kind == "signature"  # nothing rendered in the request

    with time_machine.travel(signed_at + timedelta(hours=3), tick=False):
        assert outbound_email_pump() == 1
    [message] = mail.outbox
    assert (message.subject, message.body, message.alternatives[0][0]) == expected
    assert message.to == ["Zoe.Ann+x@gmail.com"] and "Hello Zoë," in message.body
    # The link's clock started when the person signed, not when the worker got to it.
    token = link_in(message.body, "confirm").rstrip("/").rsplit("/", 1)[1]
    max_age = settings.VIGIL_SIGNATURE_CONFIRM_MAX_AGE
    with time_machine.travel(signed_at + timedelta(seconds=max_age + 60)), pytest.raises(signing.TokenExpired):
        signing.signature_confirm(token=token)


@pytest.mark.django_db
def test_notes_to_a_repeat_signer_are_rendered_as_before(petition):
    first = timezone.now().replace(microsecond=0)
    sign(petition, "ann@example.org", now=first)
    later = first + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        sign(petition, "ann@example.org", now=later)
        signature = Signature.objects.select_related("petition").get()
        expected = _rendered_at_signing(signature, "reminder", "Confirm your signature")
    outbound_email_pump()
    assert [(m.subject, m.body, m.alternatives[0][0]) for m in mail.outbox][1] == expected


@pytest.mark.django_db
def test_make_run_mode_without_a_broker_delivers_in_process(petition, settings, django_capture_on_commit_callbacks):
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sign(petition, "eager@example.org")
    finally:
        app.conf.task_always_eager = False
    [message] = mail.outbox
    assert message.subject == "[Vigil] Confirm your signature" and "/petitions/confirm/" in message.body
    assert OutboundEmail.objects.get().sent_at is not None


@pytest.mark.django_db
def test_every_rate_limit_counter_expires(client, petition):
    client.post(reverse("petitions:sign", args=[petition.slug]), form_data(email="ttl@example.org"))
    store = redis.Redis.from_url(settings.REDIS_URL)
    for key, _limit, period in (
        _key("signatures:sign:ip", settings.VIGIL_SIGN_RATE_PER_IP, "127.0.0.1"),
        _key(
            "signatures:sign:email",
            settings.VIGIL_SIGN_RATE_PER_EMAIL,
            sign_email_limit_value(petition_id=petition.pk, canonical_email="ttl@example.org"),
        ),
    ):
        assert store.get(key) == b"1"
        assert 0 < store.ttl(key) <= period


@contextmanager
def _broker_down():
    """Point this process's Celery at a port where nothing listens, as when the broker is briefly down."""
    from config.celery import app

    url = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    app._pool = app.amqp._producer_pool = None
    try:
        with pytest.raises(Exception, match="Connection refused"):  # it really is down
            outbound_email_pump_task.delay()
        yield
    finally:
        app.conf.broker_write_url = url
        app._pool = app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_broker_down_as_a_person_signs_their_confirmation_still_arrives_once(celery_worker, caplog):
    petition = OpenPetitionFactory()
    with _broker_down(), caplog.at_level(logging.WARNING):
        response = Client().post(reverse("petitions:sign", args=[petition.slug]), form_data(email="down@example.org"))
    assert response.status_code == 303
    assert "Could not queue core.tasks.outbound_email_pump_task" in caplog.text  # the pump's nudge was lost
    assert "Connection refused" in caplog.text
    [row] = OutboundEmail.objects.all()
    assert row.sent_at is None

    outbound_email_pump_task.delay()  # beat's next run, once the broker is back
    assert wait_for(lambda: OutboundEmail.objects.get(pk=row.pk).sent_at is not None, timeout=30), celery_worker.log()
    delivered = [text for text in celery_worker.delivered_mail() if "down@example.org" in text]
    assert len(delivered) == 1 and "Confirm your signature" in delivered[0]
    outbound_email_pump_task.delay()
    outbound_email_pump_task.delay()
    assert not wait_for(
        lambda: len([t for t in celery_worker.delivered_mail() if "down@example.org" in t]) > 1, timeout=3
    )
    assert [row.subject for row in outbox_rows()] == ["[Vigil] Confirm your signature"]


@pytest.mark.django_db(transaction=True)
def test_the_pump_leaves_the_connection_as_it_found_it():
    """Its own commits skip the wait for the disk; the connection, reused by the next task, is back to the default."""
    from django.db import connection

    petition = OpenPetitionFactory()
    sign(petition, "pump@example.org")
    assert outbound_email_pump() == 1
    assert OutboundEmail.objects.get().sent_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_one_batch_renders_together_and_a_purged_signer_fails_alone(petition):
    """The pump reads a batch's signatures in one query; a row whose signature was purged meanwhile is recorded as
    a failed attempt on that row, and the others are sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(5):
        sign(petition, f"batch{i}@example.org")
    gone = Signature.objects.get(canonical_email="batch2@example.org")
    gone_row = OutboundEmail.objects.get(idempotency_key=f"signature-confirm:{gone.pk}")
    Signature.objects.filter(pk=gone.pk).delete()
    with CaptureQueriesContext(connection) as queries:
        assert outbound_email_pump() == 4
    signature_reads = [q for q in queries.captured_queries if 'FROM "signatures_signature"' in q["sql"]]
    assert len(signature_reads) <= 3  # the batch's one read, and the purged row's own attempt at delivery
    gone_row.refresh_from_db()
    assert gone_row.sent_at is None and gone_row.attempts == 1 and "DoesNotExist" in gone_row.last_error
    delivered = [message.to[0] for message in mail.outbox]
    assert sorted(delivered) == [f"batch{i}@example.org" for i in (0, 1, 3, 4)]
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "/petitions/confirm/" in bodies["batch0@example.org"]


@pytest.fixture
def no_pump_nudge(monkeypatch):
    """Signing nudges the pump task; the suite's real worker would then pump these rows in the middle of the test."""
    import core.mail

    monkeypatch.setattr(core.mail, "_pump_nudged_at", float("inf"))


class _Interrupted(BaseException):
    """What a task interrupted from outside looks like to the code it runs (a time limit, a shutdown signal)."""


class _InterruptingBackend(locmem.EmailBackend):
    sent = 0

    def send_messages(self, messages):
        if _InterruptingBackend.sent == 2:
            raise _Interrupted()
        _InterruptingBackend.sent += len(messages)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_pump_releases_its_claims_at_once(settings, no_pump_nudge):
    """A pump stopped mid-batch gives back what it did not send, so the next pump sends it now, not after the
    claim expires; nothing is sent twice."""
    petition = OpenPetitionFactory()
    for i in range(5):
        sign(petition, f"claim{i}@example.org")
    settings.VIGIL_EMAIL_DELIVERY_BACKEND = f"{__name__}._InterruptingBackend"
    _InterruptingBackend.sent = 0
    with pytest.raises(_Interrupted):
        outbound_email_pump()
    assert OutboundEmail.objects.filter(sent_at__isnull=False).count() == 2
    assert not OutboundEmail.objects.filter(claimed_until__isnull=False).exists()
    settings.VIGIL_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbound_email_pump() == 3
    assert sorted(message.to[0] for message in mail.outbox) == [f"claim{i}@example.org" for i in range(5)]


@pytest.mark.django_db(transaction=True)
def test_a_pump_stops_sending_before_its_claims_run_out(settings, no_pump_nudge):
    """Claims last VIGIL_OUTBOX_CLAIM_SECONDS; a pump still sending at half that time releases the rest rather than
    risk another pump taking rows it may yet send."""
    petition = OpenPetitionFactory()
    for i in range(4):
        sign(petition, f"slow{i}@example.org")
    settings.VIGIL_OUTBOX_CLAIM_SECONDS = 0  # every message is past the halfway mark
    assert outbound_email_pump() == 0
    assert not OutboundEmail.objects.filter(claimed_until__isnull=False).exists()
    settings.VIGIL_OUTBOX_CLAIM_SECONDS = 30
    assert outbound_email_pump() == 4


@pytest.mark.django_db(transaction=True)
def test_a_message_sent_just_before_the_database_went_away_is_stamped_not_sent_again(no_pump_nudge):
    """The pump sent it, then could not stamp it (the database went away): it remembered the message in the cache,
    and the next pump stamps it without sending it a second time."""
    petition = OpenPetitionFactory()
    sign(petition, "once@example.org")
    row = OutboundEmail.objects.get()
    outbox._sent_remember(row.pk)
    assert outbound_email_pump() == 0
    row.refresh_from_db()
    assert row.sent_at is not None and mail.outbox == []
    assert outbox._sent_remembered([row.pk]) == set()
