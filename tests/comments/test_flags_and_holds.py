"""Flags from readers, comments held for review, and what each person sees of them."""

import pytest

from comments.models import CommentFlag, CommentState, QueueCounter, WatchedPattern
from comments.services.errors import CommentInvalid, FlagDuplicate
from comments.services.moderation import comment_approve
from comments.services.writing import comment_create, comment_edit, comment_flag
from tests.comments.factories import post
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db


def _queue(kind: str) -> int:
    return QueueCounter.objects.get(kind=kind).count


def test_flagger_sees_the_flag_was_received_and_cannot_flag_twice(client, article, reader):
    comment = post(article=article, text="Something rude")
    client.force_login(reader)
    response = client.post(f"/comments/{comment.pk}/flag/", {"reason": "harassment"}, follow=True)
    html = response.content.decode()
    assert "your flag was received" in html
    assert "You flagged this" in html
    again = client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"}, follow=True)
    assert "already flagged" in again.content.decode()
    assert CommentFlag.objects.filter(comment=comment).count() == 1
    with pytest.raises(FlagDuplicate):
        comment_flag(comment=comment, user=reader, reason="spam")
    comment.refresh_from_db()
    assert comment.open_flag_count == 1
    assert _queue("flagged") == 1


def test_other_needs_a_note_and_reasons_are_checked(client, article, reader):
    comment = post(article=article)
    client.force_login(reader)
    response = client.post(f"/comments/{comment.pk}/flag/", {"reason": "other", "note": ""})
    assert response.status_code == 400 and "Say briefly" in response.content.decode()
    assert client.post(f"/comments/{comment.pk}/flag/", {"reason": "bogus"}).status_code == 400
    with pytest.raises(CommentInvalid):
        comment_flag(comment=comment, user=reader, reason="bogus")
    assert not CommentFlag.objects.exists()


def test_own_comment_cannot_be_flagged(article, reader):
    comment = post(article=article, author=reader)
    with pytest.raises(CommentInvalid):
        comment_flag(comment=comment, user=reader, reason="spam")


def test_a_comment_is_hidden_once_n_distinct_readers_flag_it(client, settings, article):
    settings.VIGIL_COMMENTS_FLAG_THRESHOLD = 2
    author = VerifiedUserFactory()
    comment = post(article=article, author=author, text="Contested words")
    post(parent=comment, text="An answer that stays visible")
    assert comment_flag(comment=comment, user=VerifiedUserFactory(), reason="spam").hidden is False
    assert "Contested words" in client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert comment_flag(comment=comment, user=VerifiedUserFactory(), reason="hate").hidden is True
    comment.refresh_from_db()
    assert comment.state == CommentState.HIDDEN_BY_FLAGS
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Contested words" not in html and "[hidden while a moderator reviews it]" in html
    assert "An answer that stays visible" in html
    article.refresh_from_db()
    assert article.comment_count == 1
    client.force_login(author)
    own = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Contested words" in own and "Hidden from others while a moderator reviews it." in own


def test_held_comments_show_only_to_their_author_marked_with_the_reason(client, settings, article):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 1
    newcomer = VerifiedUserFactory()
    client.force_login(newcomer)
    response = client.post(f"/news/{article.slug}/discussion/post/", {"text": "My first words here"}, follow=True)
    html = response.content.decode()
    assert "awaiting review" in html.lower()
    assert "My first words here" in html and "first comments are checked by a moderator" in html
    assert _queue("held") == 1
    article.refresh_from_db()
    assert article.comment_count == 0
    client.force_login(VerifiedUserFactory())
    assert "My first words here" not in client.get(f"/news/{article.slug}/discussion/").content.decode()
    client.logout()
    assert "My first words here" not in client.get(f"/news/{article.slug}/discussion/").content.decode()


def test_watched_words_hold_a_comment_even_in_disguise(settings, article, reader, moderator):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 0
    WatchedPattern.objects.create(pattern="scumbag")
    WatchedPattern.objects.create(pattern=r"\b\d{3}-\d{4}\b", is_regex=True)
    assert comment_create(article=article, author=reader, text="You SCUMBAG").state == CommentState.HELD
    assert comment_create(article=article, author=reader, text="You ｓｃｕｍ\u200bbag").state == CommentState.HELD
    assert comment_create(article=article, author=reader, text="Call 555-1234").state == CommentState.HELD
    assert comment_create(article=article, author=reader, text="Scumbags? No.").state == CommentState.VISIBLE
    fine = comment_create(article=article, author=reader, text="Perfectly civil")
    edited = comment_edit(comment=fine, user=reader, text="Perfectly civil scumbag")
    assert edited.state == CommentState.HELD
    assert _queue("held") == 4
    approved = comment_approve(comment=edited, actor=moderator)
    assert approved.action == "approve"
    edited.refresh_from_db()
    assert edited.state == CommentState.VISIBLE and _queue("held") == 3


def test_moderators_manage_the_watched_list(client, moderator):
    client.force_login(moderator)
    assert client.post("/moderation/patterns/", {"pattern": "(unclosed", "is_regex": "on"}).status_code == 400
    assert client.post("/moderation/patterns/", {"pattern": "troll"}).status_code == 302
    pattern = WatchedPattern.objects.get()
    assert "troll" in client.get("/moderation/patterns/").content.decode()
    client.post(f"/moderation/patterns/{pattern.pk}/delete/")
    assert not WatchedPattern.objects.exists()


def test_a_catastrophic_pattern_cannot_hang_the_check(settings, article, reader, moderator):
    """(a+)+$ against thirty a's and a bang takes Python's re engine minutes (it backtracks through every way to
    split the a's); RE2 answers in linear time, so posting a comment stays instant whatever a moderator saved."""
    from comments.services.moderation import watched_pattern_add

    settings.VIGIL_COMMENTS_HOLD_FIRST = 0
    watched_pattern_add(pattern="(a+)+$", is_regex=True, actor=moderator)
    assert comment_create(article=article, author=reader, text="a" * 40 + "!").state == CommentState.VISIBLE
    assert comment_create(article=article, author=reader, text="aaaa").state == CommentState.HELD


def test_patterns_the_linear_engine_cannot_run_are_refused_when_saved(client, moderator):
    client.force_login(moderator)
    for pattern in (r"(?<!\w)spam", r"(\w+) \1", "(unclosed"):
        answer = client.post("/moderation/patterns/", {"pattern": pattern, "is_regex": "on"})
        assert answer.status_code == 400 and "RE2" in answer.content.decode(), pattern
    assert not WatchedPattern.objects.exists()
