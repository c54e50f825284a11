from celery import shared_task

from articles.services.images import article_image_render
from articles.services.publishing import articles_publish_due


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def article_image_render_task(image_id: int) -> None:
    article_image_render(image_id=image_id)


@shared_task(acks_late=True)
def articles_publish_due_task() -> int:
    return articles_publish_due()
