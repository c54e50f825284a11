"""Writing: who may comment, what a comment may contain, editing, deleting, and the bad input the site refuses."""

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.utils import timezone

from comments.models import Comment, CommentState
from comments.services.errors import CommentInvalid, CommentNotAllowed, DiscussionClosed
from comments.services.moderation import comment_remove, reader_suspend
from comments.services.writing import comment_create, comment_delete_by_author, comment_edit
from tests.comments.factories import post
from tests.factories import PublishedArticleFactory, UserFactory, VerifiedUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_holding")]

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<a href="java\u200bscript:alert(1)">zero width</a>',
    '<a href="ｊａｖａｓｃｒｉｐｔ:alert(1)">full width</a>',
    '<p style="background:url(javascript:alert(1))">css</p>',
    '<div style="width: expression(alert(1))">expression</div>',
    '<svg onload="alert(1)"><circle r="5"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    "<b onmouseover=alert(1)>unclosed <i>tags <em>everywhere",
    '<iframe src="https://evil.example/"></iframe>',
    '<a href="https://ok.example/" onclick="steal()">fine link</a>',
    "\u202eRTL override <scr\u200bipt>alert(1)</script>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '"><script>alert(document.cookie)</script>',
    "<style>body{display:none}</style>",
    '<form action="https://evil.example/"><input name=x></form>',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


ALLOWED = {"p", "br", "a", "strong", "em", "b", "i", "blockquote", "code", "pre"}


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_html_posted_as_a_comment_renders_inert(client, article, reader, payload):
    client.force_login(reader)
    response = client.post(f"/news/{article.slug}/discussion/post/", {"text": payload})
    assert response.status_code == 302
    comment = Comment.objects.get(article=article)
    page = client.get(f"/news/{article.slug}/discussion/").content.decode()
    item = page.split(f'id="c{comment.pk}"', 1)[1]
    body = item.split('<div class="comment__body">', 1)[1].split("</div>", 1)[0]
    assert body == comment.body_html  # what is stored (clean) is what is shown
    parser = _Tags()
    parser.feed(body)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED, (tag, body)
        assert set(attrs) <= ({"href", "title", "rel"} if tag == "a" else set()), (tag, attrs)
        if tag == "a":
            assert attrs["href"].startswith(("http://", "https://", "mailto:", "/")), attrs
            assert attrs["rel"] == "nofollow ugc noopener"


def test_links_are_clickable_with_nofollow_ugc_noopener(article, reader):
    comment = comment_create(article=article, author=reader, text="See https://example.org/report and <em>that</em>.")
    assert '<a href="https://example.org/report" rel="nofollow ugc noopener">' in comment.body_html
    assert "<em>that</em>" in comment.body_html


def test_formatting_paragraphs_quotes_and_code_survive(article, reader):
    text = "First paragraph.\n\n<blockquote>Quoted</blockquote>\n\n<code>x = 1</code> and <strong>bold</strong>"
    comment = comment_create(article=article, author=reader, text=text)
    for fragment in ("<p>First paragraph.</p>", "<blockquote>", "<code>x = 1</code>", "<strong>bold</strong>"):
        assert fragment in comment.body_html


def test_only_signed_in_verified_readers_comment(client, article):
    url = f"/news/{article.slug}/discussion/post/"
    anonymous = client.post(url, {"text": "Hello"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    unverified = UserFactory()
    client.force_login(unverified)
    response = client.post(url, {"text": "Kept words"})
    assert response.status_code == 400
    assert "Verify your e-mail address" in response.content.decode()
    assert not Comment.objects.exists()
    with pytest.raises(CommentNotAllowed):
        comment_create(article=article, author=unverified, text="Hello")


def test_discussion_page_tells_visitors_how_to_join(client, article):
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Sign in to join the discussion." in html
    assert 'name="text"' not in html


@pytest.mark.parametrize("days", [3, None])
def test_suspended_and_banned_readers_cannot_comment(client, article, reader, moderator, days):
    reader_suspend(user=reader, actor=moderator, reason="Repeated abuse", days=days)
    with pytest.raises(CommentNotAllowed):
        comment_create(article=article, author=reader, text="Let me in")
    client.force_login(reader)
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert ("may no longer comment" if days is None else "may not comment until") in html
    assert client.post(f"/news/{article.slug}/discussion/post/", {"text": "x"}).status_code == 400


def test_a_suspension_ends(article, reader, moderator):
    reader_suspend(user=reader, actor=moderator, reason="Cool off", days=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert comment_create(article=article, author=reader, text="Back again").state == CommentState.VISIBLE


@pytest.mark.parametrize("text", ["", "   \n\n  ", "<p></p>"])
def test_empty_comment_is_refused_with_the_form_again(client, article, reader, text):
    client.force_login(reader)
    response = client.post(f"/news/{article.slug}/discussion/post/", {"text": text})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode() or "Write something" in response.content.decode()
    assert not Comment.objects.exists()


def test_oversize_comment_is_refused_and_the_text_kept(client, settings, article, reader):
    settings.VIGIL_COMMENTS_MAX_LENGTH = 100
    client.force_login(reader)
    text = "word " * 30
    response = client.post(f"/news/{article.slug}/discussion/post/", {"text": text})
    html = response.content.decode()
    assert response.status_code == 400
    assert "at most 100 characters" in html
    assert "word word word" in html
    with pytest.raises(CommentInvalid):
        comment_create(article=article, author=reader, text="x" * 101)


def test_reply_to_a_comment_on_another_article_is_refused(client, article, reader):
    elsewhere = post(article=PublishedArticleFactory())
    with pytest.raises(CommentInvalid, match="another discussion"):
        comment_create(article=article, author=reader, text="Hi", parent=elsewhere)


def test_reply_to_a_removed_comment_is_refused(client, article, reader, moderator):
    parent = post(article=article)
    comment_remove(comment=parent, actor=moderator, reason="Abuse")
    client.force_login(reader)
    response = client.post(f"/comments/{parent.pk}/reply/", {"text": "Replying anyway"})
    assert response.status_code == 400
    assert "can no longer be replied to" in response.content.decode()
    assert Comment.objects.filter(parent=parent).count() == 0


def test_closed_discussion_is_read_only(client, reader):
    article = PublishedArticleFactory(comments_open=False)
    existing = post(article=PublishedArticleFactory())
    existing.article = article
    with pytest.raises(DiscussionClosed):
        comment_create(article=article, author=reader, text="Too late")
    client.force_login(reader)
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Comments are closed" in html and 'name="text"' not in html
    assert client.post(f"/news/{article.slug}/discussion/post/", {"text": "x"}).status_code == 400
    assert "Comments are closed" in client.get(article.get_absolute_url()).content.decode()


def test_reply_in_a_closed_discussion_is_refused(client, article, reader):
    parent = post(article=article)
    article.comments_open = False
    article.save()
    client.force_login(reader)
    response = client.post(f"/comments/{parent.pk}/reply/", {"text": "Late reply"})
    assert response.status_code == 400
    assert "This discussion is closed." in response.content.decode()


def test_edit_within_the_window_marks_it_edited(client, article, reader):
    comment = post(article=article, author=reader, text="Frist")
    client.force_login(reader)
    response = client.post(f"/comments/{comment.pk}/edit/", {"text": "First"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body_source == "First" and comment.edited_at is not None
    assert "edited" in client.get(f"/news/{article.slug}/discussion/").content.decode()


def test_edit_after_the_window_is_refused(client, article, reader):
    comment = post(article=article, author=reader, text="Original")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        with pytest.raises(CommentInvalid, match="15 minutes"):
            comment_edit(comment=comment, user=reader, text="Changed")
        client.force_login(reader)
        assert client.post(f"/comments/{comment.pk}/edit/", {"text": "Changed"}).status_code == 400
    comment.refresh_from_db()
    assert comment.body_source == "Original"


def test_nobody_else_can_edit_or_delete(client, article, reader, other_reader):
    comment = post(article=article, author=reader)
    with pytest.raises(CommentNotAllowed):
        comment_edit(comment=comment, user=other_reader, text="Hijack")
    with pytest.raises(CommentNotAllowed):
        comment_delete_by_author(comment=comment, user=other_reader)
    client.force_login(other_reader)
    assert client.post(f"/comments/{comment.pk}/edit/", {"text": "x"}).status_code == 404
    assert client.post(f"/comments/{comment.pk}/delete/").status_code == 404


def test_author_deletion_leaves_a_placeholder_that_keeps_replies_in_place(client, article, reader):
    parent = post(article=article, author=reader, text="Words to withdraw")
    reply = post(parent=parent, text="A reply that stays")
    lonely = post(article=article, author=reader, text="Nobody answered this")
    client.force_login(reader)
    assert client.post(f"/comments/{parent.pk}/delete/").status_code == 302
    comment_delete_by_author(comment=lonely, user=reader)
    client.logout()
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Words to withdraw" not in html and "[deleted]" in html
    assert html.index("[deleted]") < html.index("A reply that stays")
    assert "Nobody answered this" not in html and html.count("[deleted]") == 1
    parent.refresh_from_db()
    assert parent.body_source == "" and parent.state == CommentState.DELETED_BY_AUTHOR
    article.refresh_from_db()
    assert article.comment_count == 1  # only the reply is visible
    assert f'id="c{reply.pk}"' in html


def test_a_new_accounts_first_comment_waits_for_review(settings, article):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 1
    author = VerifiedUserFactory()
    first = comment_create(article=article, author=author, text="Hello all")
    second = comment_create(article=article, author=author, text="And again")
    assert first.state == CommentState.HELD and "first comments" in first.state_reason
    assert second.state == CommentState.VISIBLE
