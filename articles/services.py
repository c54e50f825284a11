"""Writes and workflows for articles: saving safe bodies, publishing, image renditions."""

import logging
from datetime import datetime

from django.utils import timezone

from articles.models import Article, ArticleImage, ArticleStatus
from core import pagecache
from core.images import renditions_current, renditions_store
from core.jobs import enqueue
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


def article_image_queue_renditions(*, image_ids: list[int]) -> None:
    """Queue rendition jobs once the current transaction commits."""
    for image_id in image_ids:
        enqueue("articles.tasks.article_image_render_task", image_id)


def article_image_render(*, image_id: int, now: datetime | None = None) -> ArticleImage | None:
    """Make the image's renditions (several widths, WebP and JPEG). Safe to run twice: names are fixed per width."""
    image = ArticleImage.objects.filter(pk=image_id).first()
    if image is None or not image.image:
        return image
    source_name = image.image.name
    if renditions_current(image.renditions, source_name):
        return image
    stored = renditions_store(image.image)
    # Only record them if the image was not replaced meanwhile.
    updated = ArticleImage.objects.filter(pk=image_id, image=source_name).update(
        renditions=stored, renditions_at=now or timezone.now()
    )
    if not updated:
        logger.info("Image %s changed while its renditions were made; the new file has its own job.", image_id)
    else:
        pagecache.content_changed()  # pages switch from the original to the renditions
    image.refresh_from_db()
    return image
