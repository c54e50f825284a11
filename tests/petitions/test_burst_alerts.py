"""Trending alerts: a burst of signatures from one hashed address or one e-mail domain within an hour e-mails the
petition's owners and organisers, once per source and hour; a quiet petition, a common domain or a burst below the
threshold tells no one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import OutboundEmail
from petitions.models import BurstAlert, MembershipRole
from petitions.services.alerts import petition_bursts_alert
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import ConfirmedSignatureFactory, PendingSignatureFactory

pytestmark = pytest.mark.django_db


def _alerts():
    return list(OutboundEmail.objects.filter(idempotency_key__startswith="burst-alert:"))


def test_a_burst_from_one_address_or_domain_tells_the_organisers_once_per_source_and_hour(petition, settings):
    settings.VIGIL_SIGNATURE_BURST_THRESHOLD = 5
    owner = organiser_of(petition)
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    viewer = organiser_of(petition, role=MembershipRole.VIEWER)
    for _ in range(5):
        PendingSignatureFactory(petition=petition, ip_hash="f" * 64, email_domain="burst.example")
    for _ in range(4):
        ConfirmedSignatureFactory(petition=petition, ip_hash="0" * 64, email_domain="gmail.com")  # common, and few
    assert petition_bursts_alert() == 2  # the address and the domain
    messages = _alerts()
    assert len(messages) == 2
    for message in messages:
        assert set(message.to) == {owner.email, organiser.email} and viewer.email not in message.to
        assert petition.title in message.subject and f"/organise/{petition.slug}/" in message.body_text
        assert "f" * 64 not in message.body_text  # the hash only as its short label
    assert {(a.kind, a.value, a.count) for a in BurstAlert.objects.all()} == {
        ("ip", "f" * 64, 5), ("domain", "burst.example", 5)}  # fmt: skip

    ConfirmedSignatureFactory(petition=petition, ip_hash="f" * 64, email_domain="burst.example")
    assert petition_bursts_alert() == 0  # the same sources in the same hour: told already
    assert len(_alerts()) == 2


def test_below_the_threshold_or_long_ago_tells_no_one(petition, settings):
    settings.VIGIL_SIGNATURE_BURST_THRESHOLD = 5
    organiser_of(petition)
    for _ in range(4):
        ConfirmedSignatureFactory(petition=petition, ip_hash="a" * 64, email_domain="burst.example")
    for _ in range(6):
        ConfirmedSignatureFactory(petition=petition, ip_hash="b" * 64, email_domain="old.example",
                                  created_at=timezone.now() - timedelta(hours=5))  # fmt: skip
    assert petition_bursts_alert() == 0 and _alerts() == []
