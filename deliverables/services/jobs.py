"""What the long jobs (letter compiles, signature packets) share: finding the ones whose worker went quiet."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.jobs import enqueue
from deliverables.models import Job, JobState, LetterCompile, PacketExport

STALE_BATCH = 100


def jobs_requeue_stale(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Queue again the compiles and packets whose worker went quiet for longer than the long-task limit (a worker
    killed mid-job, a message lost with the broker). Each job is idempotent, so one that was only slow does no harm.
    Returns the ids queued again, by kind."""
    now = now or timezone.now()
    return {
        "packets": _requeue(
            PacketExport, now=now, queue=lambda pk: enqueue("deliverables.tasks.packet_export_task", pk)
        ),
        "compiles": _requeue(
            LetterCompile, now=now, queue=lambda pk: enqueue("deliverables.tasks.letter_compile_task", pk)
        ),
    }


def _requeue(model: type[Job], *, now: datetime, queue: Callable[[int], None]) -> list[int]:
    cutoff = now - timedelta(seconds=settings.VIGIL_LONG_TASK_TIME_LIMIT + 60)
    stale = list(
        model.objects.filter(state__in=[JobState.QUEUED, JobState.RUNNING], created_at__lt=cutoff)
        .exclude(heartbeat_at__gte=cutoff)
        .values_list("pk", flat=True)[:STALE_BATCH]
    )
    model.objects.filter(pk__in=stale).update(heartbeat_at=now)
    for job_id in stale:
        queue(job_id)
    return stale
