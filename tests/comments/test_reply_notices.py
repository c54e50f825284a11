"""Reply notices: written to the outbox with the reply, delivered by a real Celery worker after commit."""

import pytest

from comments.models import CommentPreferences
from comments.services.notices import comment_preferences_set, unsubscribe_token
from comments.services.writing import comment_create
from core.models import OutboundEmail
from tests.comments.factories import post
from tests.factories import PublishedArticleFactory, VerifiedUserFactory
from tests.utils import wait_for


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_a_reply_notice_after_the_reply_commits(celery_worker, settings):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 0
    article = PublishedArticleFactory(title="Cameras on every corner")
    author = VerifiedUserFactory(display_name="Ada", email="ada@example.org")
    parent = comment_create(article=article, author=author, text="Cameras do not stop crime.")
    replier = VerifiedUserFactory(display_name="Bayo")
    reply = comment_create(article=article, author=replier, text="The figures say otherwise.", parent=parent)

    def delivered():
        return [m for m in celery_worker.delivered_mail() if "ada@example.org" in m and "Bayo replied" in m]

    assert wait_for(lambda: bool(delivered()), timeout=30), celery_worker.log()[-3000:]
    message = delivered()[0]
    assert "The figures say otherwise." in message
    assert f"/comments/{reply.pk}/" in message
    assert "/comments/unsubscribe/" in message and "List-Unsubscribe" in message
    assert wait_for(
        lambda: OutboundEmail.objects.filter(to=["ada@example.org"], sent_at__isnull=False).exists(), timeout=10
    )


@pytest.mark.django_db
def test_no_notice_when_turned_off_for_own_replies_or_twice(settings):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 0
    author = VerifiedUserFactory(email="quiet@example.org")
    parent = post(author=author)
    post(parent=parent, author=author)  # answering oneself
    assert not OutboundEmail.objects.filter(to=["quiet@example.org"]).exists()
    comment_preferences_set(user=author, reply_notices=False)
    post(parent=parent)
    assert not OutboundEmail.objects.filter(to=["quiet@example.org"]).exists()
    comment_preferences_set(user=author, reply_notices=True)
    reply = post(parent=parent)
    assert OutboundEmail.objects.filter(to=["quiet@example.org"]).count() == 1
    from comments.services.notices import comment_reply_notice_queue

    assert comment_reply_notice_queue(reply=reply, parent=parent) is False  # once per reply
    assert OutboundEmail.objects.filter(to=["quiet@example.org"]).count() == 1


@pytest.mark.django_db
def test_a_held_reply_notifies_only_once_approved(settings, moderator):
    from comments.services.moderation import comment_approve

    settings.VIGIL_COMMENTS_HOLD_FIRST = 1
    author = VerifiedUserFactory(email="parent@example.org")
    parent = post(author=author)
    reply = comment_create(article=parent.article, author=VerifiedUserFactory(), text="First words", parent=parent)
    assert not OutboundEmail.objects.filter(to=["parent@example.org"]).exists()
    comment_approve(comment=reply, actor=moderator)
    assert OutboundEmail.objects.filter(to=["parent@example.org"]).count() == 1


@pytest.mark.django_db
def test_unsubscribe_link_turns_notices_off_and_a_forged_one_does_nothing(client, reader):
    token = unsubscribe_token(user=reader)
    page = client.get(f"/comments/unsubscribe/{token}/")
    assert page.status_code == 200 and "Stop reply notices" in page.content.decode()
    assert not CommentPreferences.objects.filter(user=reader, reply_notices=False).exists()  # GET changes nothing
    assert client.post(f"/comments/unsubscribe/{token}/").status_code == 200
    assert CommentPreferences.objects.get(user=reader).reply_notices is False
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.post(f"/comments/unsubscribe/{forged}/").status_code == 400


@pytest.mark.django_db
def test_readers_turn_notices_on_and_off_in_their_settings(client, reader):
    client.force_login(reader)
    assert "checked" in client.get("/comments/settings/").content.decode()
    client.post("/comments/settings/", {})
    assert CommentPreferences.objects.get(user=reader).reply_notices is False
    client.post("/comments/settings/", {"reply_notices": "on"})
    assert CommentPreferences.objects.get(user=reader).reply_notices is True
