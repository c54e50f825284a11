import pytest


@pytest.fixture
def petition(db):
    from tests.petitions.factories import OpenPetitionFactory

    return OpenPetitionFactory()
