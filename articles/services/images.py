"""Article images: their renditions are made by the worker after the article is saved."""

import logging
from datetime import datetime

from django.utils import timezone

from articles.models import ArticleImage
from core import pagecache
from core.images import renditions_current, renditions_store
from core.jobs import enqueue

logger = logging.getLogger(__name__)


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
