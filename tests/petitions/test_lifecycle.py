"""The lifecycle: one service per move, each stamping its time; illegal moves refused; text revisions once signed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from petitions.models import Petition, PetitionRevision, PetitionStatus, milestone_after
from petitions.services.editing import petition_save
from petitions.services.errors import PetitionStateError
from petitions.services.lifecycle import (
    petition_archive,
    petition_close,
    petition_mark_delivered,
    petition_open,
    petitions_lifecycle_due,
)
from tests.petitions.factories import ConfirmedSignatureFactory, DraftPetitionFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db


def test_the_whole_life_of_a_petition_stamps_each_move():
    petition = DraftPetitionFactory()
    now = timezone.now()
    petition_open(petition=petition, now=now)
    petition_close(petition=petition, now=now + timedelta(days=1))
    petition_mark_delivered(petition=petition, now=now + timedelta(days=2))
    petition_archive(petition=petition, now=now + timedelta(days=3))
    petition.refresh_from_db()
    assert petition.status == PetitionStatus.ARCHIVED
    assert (petition.opened_at, petition.closed_at, petition.delivered_at, petition.archived_at) == (
        now, now + timedelta(days=1), now + timedelta(days=2), now + timedelta(days=3),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "move", "message"),
    [
        (PetitionStatus.DRAFT, petition_close, "only a open petition can be closed"),
        (PetitionStatus.DRAFT, petition_mark_delivered, "only a closed petition"),
        (PetitionStatus.OPEN, petition_open, "only a draft petition can be opened"),
        (PetitionStatus.OPEN, petition_archive, "is open; only a draft or closed or delivered"),
        (PetitionStatus.OPEN, petition_mark_delivered, "only a closed petition"),
    ],
)
def test_illegal_moves_raise_a_clear_error(status, move, message):
    petition = OpenPetitionFactory(status=status)
    with pytest.raises(PetitionStateError, match=message):
        move(petition=petition)
    petition.refresh_from_db()
    assert petition.status == status


def test_opening_with_a_closing_time_in_the_past_is_refused():
    petition = DraftPetitionFactory(closes_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(PetitionStateError, match="closing time"):
        petition_open(petition=petition)


def test_beat_opens_and_closes_petitions_whose_time_has_come():
    now = timezone.now()
    due_open = DraftPetitionFactory(opens_at=now - timedelta(minutes=1))
    later = DraftPetitionFactory(opens_at=now + timedelta(days=1))
    due_close = OpenPetitionFactory(closes_at=now - timedelta(minutes=1))
    assert petitions_lifecycle_due(now=now) == {"opened": 1, "closed": 1}
    statuses = dict(Petition.objects.values_list("pk", "status"))
    assert statuses[due_open.pk] == "open" and statuses[later.pk] == "draft" and statuses[due_close.pk] == "closed"
    assert petitions_lifecycle_due(now=now) == {"opened": 0, "closed": 0}  # safe to run twice


def test_text_changes_after_signing_are_kept_as_public_revisions(client):
    petition = OpenPetitionFactory(ask="Stop it.", body="<p>Old reasons.</p>")
    petition.ask = "Draft change before anyone signs."
    petition_save(petition=petition)
    assert not PetitionRevision.objects.exists()

    ConfirmedSignatureFactory(petition=petition)
    petition.ask = "Stop it now."
    petition.body = "<p>New reasons.</p><script>alert(1)</script>"
    petition_save(petition=petition)
    petition.refresh_from_db()
    assert "<script>" not in petition.body
    [revision] = PetitionRevision.objects.all()
    assert (revision.number, revision.ask) == (1, "Draft change before anyone signs.")
    petition.title = "Only the title"
    petition_save(petition=petition)
    assert PetitionRevision.objects.count() == 1  # the title is not what people agreed to

    page = client.get(f"/petitions/{petition.slug}/revisions/").content.decode()
    assert "Draft change before anyone signs." in page and "Version 1" in page
    assert "earlier version" in client.get(petition.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("count", "goal"), [(0, 100), (99, 100), (100, 250), (249, 250), (150_000, 250_000)])
def test_the_goal_rises_to_the_next_milestone(count, goal):
    assert OpenPetitionFactory.build(goal=100).goal_for(count) == goal
    assert milestone_after(999) == 1000


def test_an_edit_opened_before_a_move_does_not_undo_it():
    petition = OpenPetitionFactory()
    stale = Petition.objects.get(pk=petition.pk)  # the edit page's copy, read before the moves below
    petition_close(petition=petition)
    Petition.objects.filter(pk=petition.pk).update(sends_events=True)  # an endpoint registered meanwhile
    stale.title = "A better title"
    petition_save(petition=stale)
    petition.refresh_from_db()
    assert (petition.title, petition.status, petition.sends_events) == ("A better title", "closed", True)
    assert petition.closed_at is not None
