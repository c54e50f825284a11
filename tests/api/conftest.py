"""Fixtures of the API's tests: an open petition and one of its owners (a staff organiser, who may also export
signers' e-mail addresses)."""

import pytest

from tests.deliverables.factories import organiser_of
from tests.petitions.factories import OpenPetitionFactory


@pytest.fixture
def petition(db):
    return OpenPetitionFactory()


@pytest.fixture
def owner(petition):
    return organiser_of(petition)
