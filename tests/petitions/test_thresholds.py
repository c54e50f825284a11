"""Milestones: organisers set numbers of signatures; the count flush marks each crossed once, even when a surge
crosses several in one flush or across many; the organisers are told once, with a milestone update drafted."""

import pytest
from django.urls import reverse

from core.models import OutboundEmail
from petitions.models import MembershipRole, PetitionUpdate
from petitions.services.thresholds import (
    ThresholdsInvalid,
    petition_thresholds_handle,
    petition_thresholds_set,
    thresholds_parse,
)
from signatures.models import CountThreshold
from signatures.services.counts import signature_counts_flush
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import ConfirmedSignatureFactory

pytestmark = pytest.mark.django_db


def _confirm(petition, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        ConfirmedSignatureFactory(petition=petition, email=f"s{i}@example.org", counted=False)


def _told() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(idempotency_key__startswith="threshold-crossed:"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10,000 100,000", [10_000, 100_000]), ("5; 50;500", [5, 50, 500]), ("1_000_000", [1_000_000]), ("", [])],
)
def test_milestones_are_read_as_people_write_them(text, expected):
    assert thresholds_parse(text) == expected


def test_a_word_is_not_a_milestone():
    with pytest.raises(ThresholdsInvalid, match="not a number"):
        thresholds_parse("10000 lots")


def test_a_milestone_crossed_is_marked_once_and_the_organisers_told_once(petition):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    petition_thresholds_set(petition=petition, counts=[3, 10])
    _confirm(petition, 4)
    signature_counts_flush()
    crossed = CountThreshold.objects.get(count=3)
    assert crossed.crossed_at is not None and CountThreshold.objects.get(count=10).crossed_at is None
    first_stamp = crossed.crossed_at
    _confirm(petition, 1, start=4)
    signature_counts_flush()
    assert CountThreshold.objects.get(count=3).crossed_at == first_stamp  # not again

    assert petition_thresholds_handle() == 1
    assert petition_thresholds_handle() == 0
    (told,) = _told()
    assert told.to == [organiser.email] and "3 confirmed signatures" in told.body_text
    (draft,) = PetitionUpdate.objects.all()
    assert draft.title == "3 signatures" and draft.published_at is None
    assert reverse("petitions:organise_update", args=[petition.slug, draft.number]) in told.body_text


def test_a_surge_crossing_several_milestones_across_flushes_marks_each_once(petition):
    organiser_of(petition, role=MembershipRole.ORGANISER)
    petition_thresholds_set(petition=petition, counts=[5, 12, 20, 1000])
    _confirm(petition, 25)
    signature_counts_flush(batch=4)  # seven flushes of four, one transaction each
    assert sorted(CountThreshold.objects.filter(crossed_at__isnull=False).values_list("count", flat=True)) == [
        5,
        12,
        20,
    ]
    assert petition_thresholds_handle() == 3
    assert sorted(PetitionUpdate.objects.values_list("title", flat=True)) == [
        "12 signatures", "20 signatures", "5 signatures"]  # fmt: skip
    assert len(_told()) == 3


def test_a_milestone_already_passed_is_refused(petition):
    _confirm(petition, 6)
    signature_counts_flush()
    with pytest.raises(ThresholdsInvalid, match="has 6 signatures already"):
        petition_thresholds_set(petition=petition, counts=[5, 100])
    assert not CountThreshold.objects.exists()


def test_setting_milestones_again_keeps_those_crossed(petition):
    petition_thresholds_set(petition=petition, counts=[2, 50])
    _confirm(petition, 3)
    signature_counts_flush()
    petition_thresholds_set(petition=petition, counts=[100])
    kept = [(t.count, t.crossed_at is not None) for t in CountThreshold.objects.all()]
    assert kept == [(2, True), (100, False)]


def test_too_many_or_absurd_milestones_are_refused(petition):
    with pytest.raises(ThresholdsInvalid):
        petition_thresholds_set(petition=petition, counts=list(range(1, 30)))
    with pytest.raises(ThresholdsInvalid):
        petition_thresholds_set(petition=petition, counts=[10**12])


def test_the_updates_page_sets_milestones_and_shows_a_refusal(client, petition):
    client.force_login(organiser_of(petition, role=MembershipRole.ORGANISER))
    page = reverse("petitions:organise_updates", args=[petition.slug])
    assert client.post(page, {"form": "milestones", "counts": "10,000 100,000"}).status_code == 302
    assert list(CountThreshold.objects.values_list("count", flat=True)) == [10_000, 100_000]
    response = client.post(page, {"form": "milestones", "counts": "ten thousand"})
    assert response.status_code == 400 and "is not a number" in response.content.decode()
    assert "10,000" in client.get(page).content.decode()


def test_a_viewer_cannot_set_milestones(client, petition):
    client.force_login(organiser_of(petition, role=MembershipRole.VIEWER))
    response = client.post(reverse("petitions:organise_updates", args=[petition.slug]),
                           {"form": "milestones", "counts": "100"})  # fmt: skip
    assert response.status_code in (403, 404)
    assert not CountThreshold.objects.exists()
