"""A petition's life: draft → open → closed → delivered, and archived from anywhere but open. One service per
move, each stamping its time; beat's jobs open and close petitions on schedule and anonymise signers after the end."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import pagecache
from core.models import EventKind
from core.services.events import event_record
from petitions import selectors
from petitions.models import (
    Petition,
    PetitionStatus,
)
from petitions.services.errors import PetitionStateError
from signatures.services.privacy import signatures_anonymise_closed

logger = logging.getLogger(__name__)


def _move(*, petition: Petition, allowed: tuple[str, ...], to: str, stamp: str, now: datetime, verb: str) -> Petition:
    with transaction.atomic():
        current = Petition.objects.select_for_update().get(pk=petition.pk)
        if current.status not in allowed:
            names = " or ".join(str(PetitionStatus(s).label).lower() for s in allowed)
            raise PetitionStateError(
                f"“{current.title}” is {current.get_status_display().lower()}; only a {names} petition can be {verb}."
            )
        fields = {"status": to, stamp: now, "updated_at": now}
        Petition.objects.filter(pk=petition.pk).update(**fields)
        event_record(
            kind=EventKind.PETITION_STATE_CHANGED, petition=current, subject_id=current.pk,
            data={"from": current.status, "to": to}, now=now,
        )  # fmt: skip
    for name, value in fields.items():
        setattr(petition, name, value)
    selectors.petition_public_changed(petition=petition)
    logger.info("Petition %s is now %s", petition.pk, to)
    return petition


def petition_open(*, petition: Petition, now: datetime | None = None) -> Petition:
    now = now or timezone.now()
    if petition.closes_at is not None and petition.closes_at <= now:
        raise PetitionStateError("The closing time has already passed: set a later one before opening.")
    return _move(
        petition=petition, allowed=(PetitionStatus.DRAFT,), to=PetitionStatus.OPEN, stamp="opened_at", now=now,
        verb="opened",
    )  # fmt: skip


def petition_close(*, petition: Petition, now: datetime | None = None) -> Petition:
    return _move(
        petition=petition, allowed=(PetitionStatus.OPEN,), to=PetitionStatus.CLOSED, stamp="closed_at",
        now=now or timezone.now(), verb="closed",
    )  # fmt: skip


def petition_mark_delivered(*, petition: Petition, now: datetime | None = None) -> Petition:
    return _move(
        petition=petition, allowed=(PetitionStatus.CLOSED,), to=PetitionStatus.DELIVERED, stamp="delivered_at",
        now=now or timezone.now(), verb="marked delivered",
    )  # fmt: skip


def petition_archive(*, petition: Petition, now: datetime | None = None) -> Petition:
    return _move(
        petition=petition,
        allowed=(PetitionStatus.DRAFT, PetitionStatus.CLOSED, PetitionStatus.DELIVERED),
        to=PetitionStatus.ARCHIVED, stamp="archived_at", now=now or timezone.now(), verb="archived",
    )  # fmt: skip


TRANSITIONS = {
    "open": petition_open,
    "close": petition_close,
    "deliver": petition_mark_delivered,
    "archive": petition_archive,
}


def petitions_lifecycle_due(*, now: datetime | None = None) -> dict[str, int]:
    """Beat's job: open drafts whose opening time has come, close open petitions whose closing time has passed."""
    now = now or timezone.now()
    done = {"opened": 0, "closed": 0}
    for petition in Petition.objects.filter(status=PetitionStatus.DRAFT, opens_at__lte=now):
        try:
            petition_open(petition=petition, now=now)
            done["opened"] += 1
        except PetitionStateError as exc:
            logger.warning("Petition %s could not open on schedule: %s", petition.pk, exc)
    for petition in Petition.objects.filter(status=PetitionStatus.OPEN, closes_at__lte=now):
        try:
            petition_close(petition=petition, now=now)
            done["closed"] += 1
        except PetitionStateError:
            pass  # closed meanwhile by hand
    return done


def petitions_anonymise_due(*, now: datetime | None = None) -> int:
    """Anonymise the signers of petitions closed more than VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=30 * settings.VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS)
    done = 0
    due = Petition.objects.filter(closed_at__lt=cutoff, signers_anonymised_at__isnull=True).exclude(
        status=PetitionStatus.OPEN
    )
    for petition_id in due.values_list("pk", flat=True):
        done += signatures_anonymise_closed(petition_ids=[petition_id], now=now)
        Petition.objects.filter(pk=petition_id).update(signers_anonymised_at=now)
    if done:
        pagecache.content_changed()  # names gone from the pages' lists of recent signers
    return done
