"""Rate limits on posting and flagging, per account and per client address; over the limit the text is kept."""

import pytest

from comments.models import Comment, CommentFlag
from tests.comments.factories import post
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_holding")]


def test_posting_over_the_per_account_limit_gives_429_with_the_text_kept(client, settings, article, reader):
    settings.VIGIL_COMMENTS_POST_RATE_USER = "2/m"
    client.force_login(reader)
    url = f"/news/{article.slug}/discussion/post/"
    for n in range(2):
        assert client.post(url, {"text": f"Comment {n}"}).status_code == 302
    response = client.post(url, {"text": "My carefully written third comment"})
    html = response.content.decode()
    assert response.status_code == 429
    assert "My carefully written third comment" in html and "faster than we allow" in html
    assert Comment.objects.count() == 2


def test_posting_limit_per_address_applies_across_accounts(client, settings, article):
    settings.VIGIL_COMMENTS_POST_RATE_IP = "2/m"
    url = f"/news/{article.slug}/discussion/post/"
    for n in range(2):
        client.force_login(VerifiedUserFactory())
        assert client.post(url, {"text": f"From account {n}"}, REMOTE_ADDR="203.0.113.5").status_code == 302
    client.force_login(VerifiedUserFactory())
    blocked = client.post(url, {"text": "Third account, same address"}, REMOTE_ADDR="203.0.113.5")
    assert blocked.status_code == 429
    other = client.post(url, {"text": "Another address"}, REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 302


def test_forwarded_for_cannot_dodge_the_address_limit_without_trusted_proxies(client, settings, article):
    settings.VIGIL_COMMENTS_POST_RATE_IP = "1/m"
    settings.VIGIL_TRUSTED_PROXY_COUNT = 0
    url = f"/news/{article.slug}/discussion/post/"
    client.force_login(VerifiedUserFactory())
    assert client.post(url, {"text": "one"}, HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 302
    client.force_login(VerifiedUserFactory())
    assert client.post(url, {"text": "two"}, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


def test_replies_share_the_posting_limit(client, settings, article, reader):
    settings.VIGIL_COMMENTS_POST_RATE_USER = "1/m"
    parent = post(article=article)
    client.force_login(reader)
    assert client.post(f"/comments/{parent.pk}/reply/", {"text": "first"}).status_code == 302
    response = client.post(f"/comments/{parent.pk}/reply/", {"text": "second reply text"})
    assert response.status_code == 429 and "second reply text" in response.content.decode()


def test_flagging_is_rate_limited(client, settings, article, reader):
    settings.VIGIL_COMMENTS_FLAG_RATE_USER = "2/m"
    comments = [post(article=article) for _ in range(3)]
    client.force_login(reader)
    for comment in comments[:2]:
        assert client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"}).status_code == 302
    response = client.post(f"/comments/{comments[2].pk}/flag/", {"reason": "other", "note": "Kept note"})
    assert response.status_code == 429 and "Kept note" in response.content.decode()
    assert CommentFlag.objects.count() == 2
