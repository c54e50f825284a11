"""Starting a petition through the service: a petition given no address gets one from its title, never one another
petition has, even when both are made at the same moment."""

import threading

import pytest
from django.db import connection, transaction

from petitions.models import MembershipRole, Petition, PetitionStatus
from petitions.services.editing import petition_create
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import DraftPetitionFactory


def _new(title: str, slug: str = "") -> Petition:
    return Petition(title=title, slug=slug, target_name="The Mayor", ask="Light it.", body="<p>Dark.</p>")


@pytest.mark.django_db
def test_an_address_given_is_kept_and_one_left_out_is_made_from_the_title():
    owner = organiser_of(DraftPetitionFactory())
    given = petition_create(petition=_new("Light the bridge", slug="bridge"), by=owner)
    made = petition_create(petition=_new("Light the bridge"), by=owner)
    again = petition_create(petition=_new("Light the bridge"), by=owner)
    assert (given.slug, made.slug, again.slug) == ("bridge", "light-the-bridge", "light-the-bridge-2")
    assert made.status == PetitionStatus.DRAFT and made.memberships.get().role == MembershipRole.OWNER


@pytest.mark.django_db(transaction=True)
def test_two_petitions_of_one_title_made_at_once_get_two_addresses():
    made: list[Petition] = []
    errors: list[Exception] = []

    def other_request():
        try:
            made.append(petition_create(petition=_new("Race for it"), by=None))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        first = petition_create(petition=_new("Race for it"), by=None)  # not committed: invisible to the other
        racer = threading.Thread(target=other_request)
        racer.start()
        racer.join(timeout=1)  # the other insert waits on the unique index for this transaction
        assert racer.is_alive()
    racer.join(timeout=10)
    assert not errors and len(made) == 1
    assert (first.slug, made[0].slug) == ("race-for-it", "race-for-it-2")
    assert Petition.objects.filter(slug__startswith="race-for-it").count() == 2
