import pytest


@pytest.fixture
def petition(db):
    from tests.petitions.factories import OpenPetitionFactory

    return OpenPetitionFactory()


@pytest.fixture(autouse=True)
def _fresh_pump_nudge(monkeypatch):
    """Each test starts like a fresh web process, whose first signature nudges the outbox pump."""
    import core.mail

    monkeypatch.setattr(core.mail, "_pump_nudged_at", float("-inf"))
