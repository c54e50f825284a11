from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from accounts.roles import EDITORS
from articles.models import Article, ArticleStatus
from articles.services.publishing import (
    ArticleError,
    article_publish,
    article_save,
    article_unpublish,
    articles_publish_due,
)
from tests.factories import DraftArticleFactory, PublishedArticleFactory, VerifiedUserFactory, staff_user

pytestmark = pytest.mark.django_db


def test_drafts_and_future_articles_are_not_public():
    now = timezone.now()
    public = PublishedArticleFactory(published_at=now - timedelta(minutes=1))
    DraftArticleFactory()
    PublishedArticleFactory(status=ArticleStatus.SCHEDULED, published_at=now + timedelta(hours=1))
    assert list(Article.objects.published(now=now)) == [public]


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_a_draft_is_a_404_for_the_public(client, who):
    article = DraftArticleFactory()
    if who == "reader":
        client.force_login(VerifiedUserFactory())
    assert client.get(article.get_absolute_url()).status_code == 404


def test_editors_preview_drafts_with_a_banner(client):
    article = DraftArticleFactory(title="Secret draft")
    client.force_login(staff_user(EDITORS))
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert "Preview: this article is not public yet." in response.content.decode()


def test_a_scheduled_article_appears_when_its_time_comes(client, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    article = DraftArticleFactory()
    article_publish(article=article, at=start + timedelta(hours=2))
    assert article.status == ArticleStatus.SCHEDULED
    assert client.get(article.get_absolute_url()).status_code == 404
    time_machine.move_to(start + timedelta(hours=2, seconds=1), tick=False)
    assert client.get(article.get_absolute_url()).status_code == 200
    assert articles_publish_due() == 1
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED


def test_publishing_now_stamps_the_time():
    now = timezone.now()
    article = article_publish(article=DraftArticleFactory(), now=now)
    assert (article.status, article.published_at) == (ArticleStatus.PUBLISHED, now)


def test_unpublishing_a_draft_is_refused_clearly():
    with pytest.raises(ArticleError, match="already a draft"):
        article_unpublish(article=DraftArticleFactory(title="Plain"))


def test_a_published_article_without_a_time_cannot_be_stored():
    with pytest.raises(IntegrityError):
        DraftArticleFactory(status=ArticleStatus.PUBLISHED, published_at=None)


def test_saving_cleans_the_body_and_keeps_a_text_copy():
    article = DraftArticleFactory.build(section=DraftArticleFactory().section, slug="clean-me")
    article.body = '<p onclick="steal()">Hello <script>alert(1)</script><a href="javascript:alert(1)">x</a></p>'
    article_save(article=article)
    article.refresh_from_db()
    assert "onclick" not in article.body and "<script" not in article.body and "javascript:" not in article.body
    assert "Hello" in article.body_text and "<" not in article.body_text
