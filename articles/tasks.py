from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def article_image_render_task(image_id: int) -> None:
    from articles.services import article_image_render

    article_image_render(image_id=image_id)


@shared_task(acks_late=True)
def articles_publish_due_task() -> int:
    from articles.services import articles_publish_due

    return articles_publish_due()
