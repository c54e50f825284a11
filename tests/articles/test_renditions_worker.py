"""A real worker makes an image's renditions after the upload commits."""

import pytest
from django.db import transaction

from articles.models import ArticleImage
from articles.services.images import article_image_queue_renditions
from tests.factories import ArticleImageFactory, image_upload
from tests.utils import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_worker_makes_webp_and_jpeg_renditions(celery_worker):
    with transaction.atomic():
        image = ArticleImageFactory(image=image_upload(size=(1000, 700)))
        article_image_queue_renditions(image_ids=[image.pk])
    assert wait_for(lambda: ArticleImage.objects.get(pk=image.pk).renditions_at is not None, timeout=30), (
        celery_worker.log()
    )
    image.refresh_from_db()
    formats = {(r["width"], r["format"]) for r in image.renditions}
    assert {(320, "webp"), (320, "jpeg"), (640, "webp"), (640, "jpeg")} <= formats
    assert max(width for width, _ in formats) <= 1000
