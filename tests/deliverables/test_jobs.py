"""Long jobs whose worker went quiet are queued again by beat's sweep; a job still alive, or finished, is not."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from deliverables.models import JobState, LetterCompile, PacketExport
from deliverables.services.jobs import jobs_requeue_stale
from deliverables.services.letters import letter_compile_request
from tests.deliverables.factories import OpenLetterFactory, SignOnFactory

pytestmark = pytest.mark.django_db


def test_quiet_compiles_and_packets_are_queued_again_and_live_or_finished_ones_are_not(
    petition, django_capture_on_commit_callbacks
):
    now = timezone.now()
    long_ago = now - timedelta(seconds=settings.VIGIL_LONG_TASK_TIME_LIMIT + 120)
    letter = OpenLetterFactory(petition=petition)
    SignOnFactory(letter=letter)
    quiet_compile = letter_compile_request(letter=letter, by=None, queue=False)
    LetterCompile.objects.filter(pk=quiet_compile.pk).update(created_at=long_ago, state=JobState.RUNNING)
    quiet_packet = PacketExport.objects.create(petition=petition, kind="csv", created_at=long_ago)
    alive = PacketExport.objects.create(petition=petition, kind="csv", created_at=long_ago, heartbeat_at=now)
    done = PacketExport.objects.create(
        petition=petition, kind="csv", created_at=long_ago, state=JobState.DONE, file_name="packets/x.csv"
    )
    recent = PacketExport.objects.create(petition=petition, kind="csv")

    with django_capture_on_commit_callbacks() as callbacks:
        queued = jobs_requeue_stale(now=now)

    assert queued == {"packets": [quiet_packet.pk], "compiles": [quiet_compile.pk]}
    assert sorted((callback.name, callback.args) for callback in callbacks) == [
        ("deliverables.tasks.letter_compile_task", (quiet_compile.pk,)),
        ("deliverables.tasks.packet_export_task", (quiet_packet.pk,)),
    ]
    quiet_packet.refresh_from_db()
    assert quiet_packet.heartbeat_at == now  # the next sweep leaves it to the worker it was just handed to
    assert jobs_requeue_stale(now=now) == {"packets": [], "compiles": []}
    for untouched in (alive, done, recent):
        assert untouched.pk not in queued["packets"]
