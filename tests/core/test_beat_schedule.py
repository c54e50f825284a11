"""The periodic tasks: one table in config/settings.py, naming only tasks that exist."""

from django.conf import settings

from config.celery import app


def test_every_scheduled_task_is_a_registered_task_with_a_positive_interval():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        assert float(entry["schedule"]) > 0, name


def test_the_frequent_tasks_run_as_often_as_their_settings_say():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["signatures-counts-flush"]["schedule"] == settings.VIGIL_SIGNATURE_COUNT_FLUSH_SECONDS
    assert schedule["signatures-intake-drain"]["schedule"] == settings.VIGIL_SIGN_INTAKE_DRAIN_SECONDS
    assert schedule["outbound-email-pump"]["schedule"] == settings.VIGIL_OUTBOX_PUMP_SECONDS
