"""Signing, confirming and withdrawing through the services: double opt-in, dedup, and every bad token."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing as django_signing
from django.utils import timezone

from signatures.models import Signature, SignatureState
from signatures.selectors import signature_count
from signatures.services import signing
from signatures.services.counts import signature_counts_flush
from tests.petitions.factories import ClosedPetitionFactory, DraftPetitionFactory
from tests.signatures.helpers import link_in, outbox_rows, sign

pytestmark = pytest.mark.django_db


def _token(row, kind: str) -> str:
    return link_in(row.body_text, kind).rstrip("/").rsplit("/", 1)[1]


def test_signing_records_a_pending_signature_and_its_confirmation_email(petition):
    result = sign(petition, "Ann.Smith+x@Gmail.com")
    signature = Signature.objects.get(pk=result.signature_id)
    assert result.outcome == "created"
    assert signature.state == SignatureState.PENDING
    assert signature.canonical_email == "annsmith@gmail.com"
    assert signature.email == "Ann.Smith+x@gmail.com"  # mail goes where the person said
    assert len(signature.ip_hash) == 64 and "203.0.113.7" not in signature.ip_hash
    [row] = outbox_rows()
    assert row.idempotency_key == f"signature-confirm:{signature.pk}"
    assert row.to == ["Ann.Smith+x@gmail.com"]
    assert "/petitions/confirm/" in row.body_text and "/petitions/confirm/" in row.body_html
    assert "/petitions/withdraw/" in row.body_text
    assert signature_count(petition_id=petition.pk) == 0  # pending does not count


def test_confirming_counts_once_and_a_reused_link_changes_nothing(petition):
    sign(petition)
    token = _token(outbox_rows()[0], "confirm")
    signature, first = signing.signature_confirm(token=token)
    assert first and signature.state == SignatureState.CONFIRMED and signature.confirmed_at
    again, first_again = signing.signature_confirm(token=token)
    assert not first_again and again.confirmed_at == signature.confirmed_at
    signature_counts_flush()
    assert signature_count(petition_id=petition.pk) == 1


def test_signing_again_is_polite_and_the_mailbox_owner_gets_one_note(petition):
    first = sign(petition, "ann@example.org")
    second = sign(petition, "ANN@example.org")
    assert second.signature_id == first.signature_id and second.outcome == "already"
    assert len(outbox_rows()) == 1  # within the notice interval: nothing more

    later = timezone.now() + timedelta(hours=2)
    sign(petition, "ann@example.org", now=later)
    sign(petition, "ann@example.org", now=later)
    rows = outbox_rows()
    assert len(rows) == 2 and "not confirmed yet" in rows[1].body_text  # a reminder for a pending signature

    signing.signature_confirm(token=_token(rows[0], "confirm"))
    sign(petition, "ann@example.org", now=later + timedelta(hours=2))
    note = outbox_rows()[-1]
    assert "You have already signed" in note.subject and "/petitions/confirm/" not in note.body_text
    assert Signature.objects.count() == 1


def test_tampered_token_is_refused(petition):
    sign(petition)
    token = _token(outbox_rows()[0], "confirm")
    with pytest.raises(signing.TokenInvalid):
        signing.signature_confirm(token=token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    forged = django_signing.TimestampSigner(salt="another-purpose").sign(f"{Signature.objects.get().pk}.1")
    with pytest.raises(signing.TokenInvalid):
        signing.signature_confirm(token=forged)
    with pytest.raises(signing.TokenInvalid):
        signing.signature_confirm(token="not-a-token")
    assert Signature.objects.get().state == SignatureState.PENDING


def test_expired_token_is_refused(petition, settings):
    sign(petition)
    token = _token(outbox_rows()[0], "confirm")
    later = timezone.now() + timedelta(seconds=settings.VIGIL_SIGNATURE_CONFIRM_MAX_AGE + 60)
    with time_machine.travel(later), pytest.raises(signing.TokenExpired):
        signing.signature_confirm(token=token)
    assert Signature.objects.get().state == SignatureState.PENDING


def test_withdraw_takes_the_signer_out_and_their_links_stop_confirming(petition):
    sign(petition)
    row = outbox_rows()[0]
    signing.signature_confirm(token=_token(row, "confirm"))
    signature_counts_flush()
    assert signature_count(petition_id=petition.pk) == 1
    signature, first = signing.signature_withdraw(token=_token(row, "withdraw"))
    assert first and signature.state == SignatureState.WITHDRAWN and signature.first_name == ""
    _, again = signing.signature_withdraw(token=_token(row, "withdraw"))
    assert not again
    with pytest.raises(signing.TokenStale):
        signing.signature_confirm(token=_token(row, "confirm"))
    signature_counts_flush()
    assert signature_count(petition_id=petition.pk) == 0


def test_a_withdrawn_signer_signing_again_starts_over_with_a_new_confirmation(petition):
    sign(petition)
    old = outbox_rows()[0]
    signing.signature_confirm(token=_token(old, "confirm"))
    signing.signature_withdraw(token=_token(old, "withdraw"))
    result = sign(petition, "ann@example.org", first_name="Annie")
    assert result.outcome == "resigned"
    signature = Signature.objects.get()
    assert signature.state == SignatureState.PENDING and signature.generation == 2 and signature.first_name == "Annie"
    new = outbox_rows()[-1]
    assert new.idempotency_key == f"signature-confirm:{signature.pk}:g2"
    with pytest.raises(signing.TokenStale):  # the old links belong to the withdrawn signature
        signing.signature_confirm(token=_token(old, "confirm"))
    signing.signature_confirm(token=_token(new, "confirm"))
    signature_counts_flush()
    assert signature_count(petition_id=petition.pk) == 1


@pytest.mark.parametrize("factory", [DraftPetitionFactory, ClosedPetitionFactory])
def test_only_open_petitions_take_signatures(factory):
    with pytest.raises(signing.PetitionNotOpen):
        sign(factory())
    assert not Signature.objects.exists() and not outbox_rows()


def test_a_petition_past_its_closing_time_takes_no_signatures(petition):
    petition.closes_at = timezone.now() - timedelta(minutes=1)
    petition.save()
    with pytest.raises(signing.PetitionNotOpen):
        sign(petition)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"first_name": "<script>alert(1)</script>"}, "cannot contain"),
        ({"last_name": "<b>Smith</b>"}, "cannot contain"),
        ({"country": "XX"}, "country from the list"),
        ({"country": "gb"}, "country from the list"),
        ({"first_name": "   "}, "first and last name"),
    ],
)
def test_bad_details_are_refused(petition, overrides, message):
    with pytest.raises(signing.SignatureError, match=message):
        sign(petition, **overrides)
    assert not Signature.objects.exists()


def test_hostile_email_is_refused(petition):
    with pytest.raises(signing.InvalidEmail):
        sign(petition, "victim@example.org\r\nBcc: everyone@example.org")
    assert not Signature.objects.exists()


def test_resend_sends_a_fresh_link_to_a_pending_signer_only_and_says_nothing(petition, settings):
    sign(petition, "ann@example.org")
    later = timezone.now() + timedelta(seconds=settings.VIGIL_SIGNATURE_RESEND_INTERVAL + 1)
    assert signing.signature_confirmation_resend(petition=petition, email="Ann@Example.org", now=later) is None
    assert len(outbox_rows()) == 2
    signing.signature_confirmation_resend(petition=petition, email="ann@example.org", now=later)  # throttled
    signing.signature_confirmation_resend(petition=petition, email="nobody@example.org", now=later)
    signing.signature_confirmation_resend(petition=petition, email="not an address", now=later)
    assert len(outbox_rows()) == 2


def test_client_address_hash_is_keyed_and_groups_an_ipv6_network(settings):
    first = signing.client_address_hash("2001:db8:1:2:aaaa::1")
    assert first == signing.client_address_hash("2001:db8:1:2:bbbb::9")  # same /64
    assert first != signing.client_address_hash("2001:db8:1:3::1")
    v4 = signing.client_address_hash("198.51.100.4")
    settings.VIGIL_IP_HASH_KEY = "another-key"
    assert signing.client_address_hash("198.51.100.4") != v4
