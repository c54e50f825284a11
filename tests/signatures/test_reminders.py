"""One reminder to confirm: after VIGIL_SIGNATURE_REMINDER_HOURS, never twice, never to a signer who confirmed or
withdrew, never for a petition that stopped taking signatures; its link confirms like the first."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.models import OutboundEmail
from core.services.outbox import outbound_email_pump
from petitions.services.lifecycle import petition_close
from signatures.models import Signature, SignatureState
from signatures.services.reminders import signatures_remind_due
from signatures.services.signing import (
    signature_confirm,
    signature_confirm_token,
    signature_withdraw,
    signature_withdraw_token,
)
from tests.petitions.factories import OpenPetitionFactory
from tests.signatures.helpers import confirm_via_pages, outbox_rows, sign

pytestmark = pytest.mark.django_db

LATER = timedelta(hours=25)


@pytest.fixture
def petition(db):
    return OpenPetitionFactory()


def _reminders(to: str | None = None) -> list[OutboundEmail]:
    return [row for row in outbox_rows(to) if row.idempotency_key.startswith("signature-reminder:")]


def test_a_signer_who_has_not_confirmed_is_reminded_once_and_the_link_confirms(petition):
    signature_id = sign(petition, "ann@example.org").signature_id
    assert signatures_remind_due(now=timezone.now() + timedelta(hours=23)) == 0  # not yet
    assert signatures_remind_due(now=timezone.now() + LATER) == 1
    assert signatures_remind_due(now=timezone.now() + LATER) == 0  # run again: nothing more
    assert signatures_remind_due(now=timezone.now() + 3 * LATER) == 0  # and never a second one
    (reminder,) = _reminders("ann@example.org")
    assert "Confirm your signature" in reminder.subject
    confirm_via_pages(Client(), reminder)
    assert Signature.objects.get(pk=signature_id).state == SignatureState.CONFIRMED


def test_confirmed_and_withdrawn_signers_get_no_reminder(petition):
    confirmed = Signature.objects.get(pk=sign(petition, "done@example.org").signature_id)
    signature_confirm(token=signature_confirm_token(signature=confirmed))
    withdrawn = Signature.objects.get(pk=sign(petition, "gone@example.org").signature_id)
    signature_withdraw(token=signature_withdraw_token(signature=withdrawn))
    assert signatures_remind_due(now=timezone.now() + LATER) == 0
    assert _reminders() == []


def test_no_reminder_for_a_petition_that_stopped_taking_signatures(petition):
    sign(petition, "ann@example.org")
    late = OpenPetitionFactory(closes_at=timezone.now() + timedelta(hours=2))
    sign(late, "bob@example.org")
    petition_close(petition=petition)
    assert signatures_remind_due(now=timezone.now() + LATER) == 0  # one closed, the other past its closing time
    assert _reminders() == []


def test_a_reminder_not_yet_sent_when_the_signer_confirms_is_not_sent(petition):
    signature = Signature.objects.get(pk=sign(petition, "ann@example.org").signature_id)
    outbound_email_pump(max_seconds=5)  # the confirmation e-mail goes
    assert signatures_remind_due(now=timezone.now() + LATER) == 1
    signature.refresh_from_db()
    signature_confirm(token=signature_confirm_token(signature=signature))
    outbound_email_pump(max_seconds=5)
    (reminder,) = OutboundEmail.objects.filter(idempotency_key__startswith="signature-reminder:")
    assert reminder.sent_at is None and reminder.failed_at is not None
    assert "confirmed first" in reminder.last_error


def test_the_wait_counts_from_the_last_e_mail_and_signing_again_starts_over(petition):
    signature = Signature.objects.get(pk=sign(petition, "ann@example.org").signature_id)
    Signature.objects.filter(pk=signature.pk).update(notified_at=timezone.now() + timedelta(hours=20))
    assert signatures_remind_due(now=timezone.now() + LATER) == 0  # a note went 20 h in: 24 h from then
    assert signatures_remind_due(now=timezone.now() + timedelta(hours=45)) == 1
    signature.refresh_from_db()
    signature_withdraw(token=signature_withdraw_token(signature=signature))
    sign(petition, "ann@example.org")  # a fresh start, confirmed again
    signature.refresh_from_db()
    assert (signature.generation, signature.reminded_at) == (2, None)
    assert signatures_remind_due(now=timezone.now() + LATER) == 1
    assert len(_reminders("ann@example.org")) == 1  # the first was scrubbed with the withdrawal, its key kept


def test_reminders_can_be_switched_off(petition, settings):
    settings.VIGIL_SIGNATURE_REMINDER_HOURS = 0
    sign(petition, "ann@example.org")
    assert signatures_remind_due(now=timezone.now() + LATER) == 0


def test_a_large_backlog_is_reminded_in_batches(petition):
    for n in range(7):
        sign(petition, f"s{n}@example.org", ip=f"203.0.113.{n + 1}")
    assert signatures_remind_due(now=timezone.now() + LATER, batch=3) == 7
    assert len(_reminders()) == 7
