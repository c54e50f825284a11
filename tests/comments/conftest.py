import pytest

from tests.factories import PublishedArticleFactory, VerifiedUserFactory, staff_user


@pytest.fixture
def article(db):
    return PublishedArticleFactory()


@pytest.fixture
def reader(db):
    return VerifiedUserFactory(display_name="Rosa")


@pytest.fixture
def other_reader(db):
    return VerifiedUserFactory(display_name="Idris")


@pytest.fixture
def moderator(db):
    from accounts.roles import MODERATORS

    return staff_user(MODERATORS)


@pytest.fixture
def no_holding(settings):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 0
