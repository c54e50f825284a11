"""Recording events (core.Event) for the systems that follow a petition.

`event_record` writes the row inside the caller's transaction; the services that change things call it where the
change is written (a lifecycle move, a delivery), and signature confirmations write theirs in the same statement as
the confirmation (signatures.services.signing). After the commit, where no beat runs (the embedded default), the
handlers named in VIGIL_EVENT_HANDLERS run at once; elsewhere beat runs them every VIGIL_WEBHOOK_PUMP_SECONDS and a
process nudges them at most once a second.
"""

import time
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from core.jobs import enqueue
from core.models import Event

_nudged_at = 0.0


def events_handle_soon() -> None:
    """Have the event handlers run soon after the current transaction commits, without one task per event."""
    global _nudged_at
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        now = time.monotonic()
        if now - _nudged_at < 1.0:
            return
        _nudged_at = now
    for name in settings.VIGIL_EVENT_HANDLERS:
        enqueue(name)


def _followed(petition_id: int) -> bool:
    """Whether the petition has an endpoint now, read from its row (a caller's copy of it may be older)."""
    petitions = Event._meta.get_field("petition").related_model
    return petitions.objects.filter(pk=petition_id, sends_events=True).exists()


def event_record(*, kind: str, petition, subject_id: int, data: dict | None = None, now: datetime | None = None):
    """Write one event about `petition` in the current transaction, if anyone follows the petition's events."""
    if not _followed(petition.pk):
        return None
    event = Event.objects.create(
        kind=kind, petition_id=petition.pk, subject_id=subject_id, data=data or {}, created_at=now or timezone.now()
    )
    events_handle_soon()
    return event
