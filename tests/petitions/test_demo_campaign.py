"""The demo campaign: idempotent, linked from the story, counts rebuilt; extra signatures added in bulk."""

import pytest

from demo.campaign import INITIAL_SIGNATURES, demo_campaign_ensure, demo_signatures_add
from petitions.models import PetitionMembership, PetitionStatus
from signatures import selectors
from signatures.models import Signature
from signatures.services.counts import signature_counts_reconcile
from tests.factories import PublishedArticleFactory, staff_user

pytestmark = pytest.mark.django_db


def test_demo_campaign_is_idempotent_and_adds_in_bulk(client):
    article = PublishedArticleFactory()
    organiser = staff_user("Organisers")
    petition = demo_campaign_ensure(article=article, organiser=organiser)
    again = demo_campaign_ensure(article=article, organiser=organiser)
    assert again.pk == petition.pk and petition.status == PetitionStatus.OPEN and petition.goal == 150_000
    assert Signature.objects.count() == INITIAL_SIGNATURES
    assert selectors.signature_count(petition_id=petition.pk) == INITIAL_SIGNATURES
    assert len(selectors.counts_by_country(petition_id=petition.pk, limit=50)) >= 8
    assert len(selectors.hourly_series(petition_id=petition.pk)) > 100
    assert PetitionMembership.objects.get(petition=petition).user == organiser
    article.refresh_from_db()
    assert article.related_petition == petition
    assert demo_signatures_add(petition=petition, count=1234) == INITIAL_SIGNATURES + 1234
    assert signature_counts_reconcile(petition_id=petition.pk) == []
    page = client.get(petition.get_absolute_url()).content.decode()
    assert "4,234" in page and "<svg" in page and "demo.vigil.example" not in page
