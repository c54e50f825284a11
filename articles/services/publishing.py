"""Saving and publishing articles: safe text, scheduled publication, and unpublishing."""

import logging
from datetime import datetime

from django.utils import timezone

from articles.models import Article, ArticleStatus
from core import pagecache
from core.sanitize import sanitize_article_html, strip_tags_to_text

logger = logging.getLogger(__name__)


class ArticleError(ValueError):
    pass


def article_save(*, article: Article) -> Article:
    """Save an article with its body cleaned by the sanitiser; the clean HTML is what is stored."""
    article.body = sanitize_article_html(article.body)
    article.body_text = strip_tags_to_text(article.body)
    article.save()
    return article


def article_publish(*, article: Article, at: datetime | None = None, now: datetime | None = None) -> Article:
    """Publish now, or schedule for a future `at`; an `at` in the past publishes with that time."""
    now = now or timezone.now()
    when = at or now
    article.status = ArticleStatus.SCHEDULED if when > now else ArticleStatus.PUBLISHED
    article.published_at = when
    article.save(update_fields=["status", "published_at", "updated_at"])
    return article


def article_unpublish(*, article: Article) -> Article:
    if article.status == ArticleStatus.DRAFT:
        raise ArticleError(f"“{article.title}” is already a draft.")
    article.status = ArticleStatus.DRAFT
    article.save(update_fields=["status", "updated_at"])
    return article


def articles_publish_due(*, now: datetime | None = None) -> int:
    """Scheduled articles whose time has come are marked published (they are already public by their time)."""
    now = now or timezone.now()
    published = Article.objects.filter(status=ArticleStatus.SCHEDULED, published_at__lte=now).update(
        status=ArticleStatus.PUBLISHED
    )
    if published:
        pagecache.content_changed()
    return published
