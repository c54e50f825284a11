"""A reader deletes their own account: it goes, with the words of their comments; refused while it is the only
owner of a petition."""

import pytest
from django.urls import reverse

from accounts.models import User
from comments.models import Comment, CommentState
from petitions.models import MembershipRole
from tests.comments.factories import post
from tests.factories import VerifiedUserFactory
from tests.petitions.factories import MembershipFactory, OpenPetitionFactory
from tests.privacy.traces import database_traces

pytestmark = pytest.mark.django_db

WORDS = "My unmistakable opinion about quokkas."


def _reader():
    user = VerifiedUserFactory(email="leaving.reader@example.org", display_name="Leavingreader")
    user.set_password("a long enough password 42")
    user.save()
    return user


def test_a_reader_deletes_their_account_and_their_words_go(client):
    user = _reader()
    comment = post(author=user, text=WORDS)
    reply = post(parent=comment, text="A reply that stays.")
    client.force_login(user)
    assert client.get(reverse("accounts:delete")).status_code == 200
    wrong = client.post(reverse("accounts:delete"), {"password": "not it"})
    assert wrong.status_code == 400 and User.objects.filter(pk=user.pk).exists()
    done = client.post(reverse("accounts:delete"), {"password": "a long enough password 42"})
    assert done.status_code == 302 and not User.objects.filter(pk=user.pk).exists()
    comment.refresh_from_db()
    assert comment.state == CommentState.DELETED_BY_AUTHOR and comment.author_id is None
    assert Comment.objects.get(pk=reply.pk).state == CommentState.VISIBLE  # the thread keeps its place
    assert database_traces("leaving.reader") == [] and database_traces("quokkas") == []
    assert database_traces("Leavingreader") == []


def test_the_only_owner_of_a_petition_is_told_to_hand_it_over_first(client):
    user = _reader()
    petition = OpenPetitionFactory(title="Keep the park")
    MembershipFactory(petition=petition, user=user, role=MembershipRole.OWNER)
    client.force_login(user)
    refused = client.post(reverse("accounts:delete"), {"password": "a long enough password 42"})
    assert refused.status_code == 400 and "only owner" in refused.content.decode()
    assert User.objects.filter(pk=user.pk).exists()
    MembershipFactory(petition=petition, user=VerifiedUserFactory(), role=MembershipRole.OWNER)
    assert client.post(reverse("accounts:delete"), {"password": "a long enough password 42"}).status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
