"""Work is queued one way: `core.jobs.enqueue("app.tasks.name", ...)`, after commit. Every name the project queues
must be a task the worker registers under that name, or the work would be lost at the moment it is queued."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from config.celery import app
from core.jobs import enqueue, task_named
from tests.conftest import ROOT

APPS = ["core", "accounts", "signatures", "petitions", "deliverables", "articles", "comments", "api", "demo"]
# Where the names queued come from a setting (the apps above a mechanism in core, which cannot name their tasks):
# the setting's names are checked instead.
FROM_SETTINGS = {"core/services/events.py": "VIGIL_EVENT_HANDLERS",
                 "signatures/services/counts.py": "VIGIL_THRESHOLD_HANDLERS"}  # fmt: skip


def _queued_names() -> dict[str, list[str]]:
    """Every literal name passed to enqueue() in the project's code, with where it is written."""
    found: dict[str, list[str]] = {}
    for app_name in APPS:
        for path in sorted((ROOT / app_name).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "enqueue":
                    first = node.args[0]
                    where = str(Path(path).relative_to(ROOT))
                    if where in FROM_SETTINGS and isinstance(first, ast.Name):
                        for name in getattr(settings, FROM_SETTINGS[where]):
                            found.setdefault(name, []).append(f"{where} (from {FROM_SETTINGS[where]})")
                        continue
                    assert isinstance(first, ast.Constant), f"{path}:{node.lineno}: queue a task by its literal name"
                    found.setdefault(first.value, []).append(f"{Path(path).relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_name_queued_is_a_task_the_worker_registers():
    queued = _queued_names()
    assert len(queued) >= 10  # the scan sees the project's queues (outbox, intake, counts, deliverables, images)
    app.loader.import_default_modules()
    app.autodiscover_tasks(force=True)
    for name, places in queued.items():
        assert name in app.tasks, f"{name} (queued at {places}) is not registered with the worker"
        assert task_named(name).name == name


def test_every_scheduled_task_is_registered():
    app.autodiscover_tasks(force=True)
    for entry, spec in settings.CELERY_BEAT_SCHEDULE.items():
        assert spec["task"] in app.tasks, f"beat entry {entry} names {spec['task']}, which no module registers"


@pytest.mark.parametrize("name", ["core.tasks.no_such_task", "core.tasks", "no_such_app.tasks.x", "core.jobs.enqueue"])
def test_a_name_that_is_not_a_task_fails_when_queued_not_later(name):
    with pytest.raises(LookupError):
        enqueue(name, 1)


@pytest.mark.django_db
def test_queued_work_waits_for_the_commit_and_is_dropped_with_a_rollback(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue("core.tasks.ping_task", "kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue("core.tasks.ping_task", "rolled back")
            raise RuntimeError
    assert [(callback.name, callback.args) for callback in callbacks] == [("core.tasks.ping_task", ("kept",))]
