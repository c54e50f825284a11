"""The Celery application. Its settings live in config.settings under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vigil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _lower_priority(**_kwargs) -> None:
    """Worker processes run at a lower CPU priority (VIGIL_WORKER_NICENESS) than the web server on the same machine:
    in a surge, answering signers comes first, and the writes and e-mail they cause follow on the spare cycles."""
    from django.conf import settings

    niceness = getattr(settings, "VIGIL_WORKER_NICENESS", 0)
    if niceness > 0:
        os.nice(niceness)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_logs(logger, **_kwargs) -> None:
    """Celery sets up its own handlers: they drop link tokens and e-mail addresses too (core.redact)."""
    from core.redact import RedactFilter

    for handler in logger.handlers:
        handler.addFilter(RedactFilter())
