"""Privacy: no e-mail in public, addresses only hashed, pending purged, signers anonymised after a campaign."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from petitions.services.lifecycle import petitions_anonymise_due
from signatures import selectors
from signatures.models import Signature
from signatures.services.counts import signature_counts_flush
from signatures.services.privacy import signatures_pending_purge
from tests.factories import PublishedArticleFactory
from tests.petitions.factories import ClosedPetitionFactory, ConfirmedSignatureFactory, PendingSignatureFactory
from tests.signatures.helpers import form_data

pytestmark = pytest.mark.django_db


def test_email_addresses_never_reach_public_pages_feeds_or_sitemap(client, petition):
    client.post(f"/petitions/{petition.slug}/sign/", form_data(email="secret.person@example.org"))
    ConfirmedSignatureFactory(petition=petition, email="shown.person@example.org", first_name="Shown")
    signature_counts_flush()
    PublishedArticleFactory(related_petition=petition)
    cache.clear()
    pages = ["/", petition.get_absolute_url(), "/petitions/", "/sitemap.xml", "/sitemap-petitions.xml",
             reverse("articles:rss"), reverse("articles:atom")]  # fmt: skip
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "@example.org" not in body, url
        assert "megacorp.example" not in body, url  # the target's address is private too
    assert petition.get_absolute_url() in client.get("/sitemap-petitions.xml").content.decode()
    assert "Shown E." in client.get(petition.get_absolute_url()).content.decode()


def test_pages_load_nothing_from_other_hosts(client, petition):
    html = client.get(petition.get_absolute_url()).content.decode()
    loaded = re.findall(r"<(?:script|link|img|source|iframe)\b[^>]*?(?:src|href|srcset)=\"([^\"]+)\"", html)
    assert loaded
    for url in loaded:
        host = urlsplit(url).hostname
        assert host in (None, "testserver"), url


def test_pending_signatures_are_purged_after_the_set_days(petition, settings):
    old = timezone.now() - timedelta(days=settings.VIGIL_SIGNATURE_PENDING_PURGE_DAYS + 1)
    PendingSignatureFactory(petition=petition, created_at=old)
    kept = PendingSignatureFactory(petition=petition)
    confirmed = ConfirmedSignatureFactory(petition=petition, created_at=old)
    assert signatures_pending_purge() == 1
    assert set(Signature.objects.values_list("pk", flat=True)) == {kept.pk, confirmed.pk}


def test_signers_are_anonymised_months_after_closing_and_totals_stay(settings):
    closed_long_ago = ClosedPetitionFactory(
        closed_at=timezone.now() - timedelta(days=30 * settings.VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS + 1)
    )
    recent = ClosedPetitionFactory()
    for i in range(3):
        ConfirmedSignatureFactory(petition=closed_long_ago, email=f"a{i}@example.org", country="FR", region="Bretagne")
    ConfirmedSignatureFactory(petition=recent)
    signature_counts_flush()
    before = (selectors.signature_count(petition_id=closed_long_ago.pk),
              selectors.counts_by_region(petition_id=closed_long_ago.pk))  # fmt: skip

    assert petitions_anonymise_due() == 3
    assert petitions_anonymise_due() == 0  # done once
    for signature in Signature.objects.filter(petition=closed_long_ago):
        assert (signature.first_name, signature.email, signature.canonical_email, signature.ip_hash) == ("", "", "", "")
        assert signature.anonymised_at and signature.country == "FR" and not signature.show_publicly
    assert Signature.objects.get(petition=recent).email != ""
    from signatures.services.counts import signature_counts_reconcile

    assert signature_counts_reconcile(petition_id=closed_long_ago.pk) == []
    after = (selectors.signature_count(petition_id=closed_long_ago.pk),
             selectors.counts_by_region(petition_id=closed_long_ago.pk))  # fmt: skip
    assert after == before
