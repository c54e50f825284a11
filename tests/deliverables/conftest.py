import pytest


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    """Each test writes its private files (packets, compiles, proofs) and media (logos) in a directory of its own."""
    settings.VIGIL_PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VIGIL_EXPORT_PROGRESS_SECONDS = 0.0


@pytest.fixture
def petition(db):
    from tests.petitions.factories import OpenPetitionFactory

    return OpenPetitionFactory()
