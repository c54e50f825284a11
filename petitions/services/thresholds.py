"""Milestones: the numbers of confirmed signatures a petition's organisers want to hear about (signatures'
CountThreshold). The count flush marks one crossed, once; `petition_thresholds_handle` then e-mails the petition's
owners and organisers and drafts a milestone update for them to edit and publish, in one transaction per threshold
(its `handled_at` and the e-mail's idempotency key make it once, whoever runs it twice)."""

import logging
from datetime import datetime

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.links import absolute_url
from petitions.models import MembershipRole, Petition, UpdateKind
from petitions.services.errors import PetitionError
from petitions.services.notices import petition_members_tell
from petitions.services.updates import petition_update_create
from signatures import selectors as signature_selectors
from signatures.models import CountThreshold

logger = logging.getLogger(__name__)

MAX_THRESHOLDS = 20
MAX_COUNT = 100_000_000


class ThresholdsInvalid(PetitionError):
    pass


def thresholds_parse(text: str) -> list[int]:
    """Numbers separated by spaces or semicolons; commas, dots, underscores and apostrophes inside one are its
    thousands: "10,000 100,000" → [10000, 100000]."""
    found = []
    for part in text.replace(";", " ").split():
        digits = part.translate(str.maketrans("", "", ",._'"))
        if not digits.isdigit():
            raise ThresholdsInvalid(f"“{part}” is not a number of signatures.")
        found.append(int(digits))
    return found


def petition_thresholds_set(*, petition: Petition, counts: list[int]) -> list[CountThreshold]:
    """Replace the thresholds not yet crossed with `counts`; those crossed stay, as the record of what happened."""
    counts = sorted(set(counts))
    current = signature_selectors.signature_count(petition_id=petition.pk)
    if len(counts) > MAX_THRESHOLDS:
        raise ThresholdsInvalid(f"Set at most {MAX_THRESHOLDS} milestones.")
    if any(count < 1 or count > MAX_COUNT for count in counts):
        raise ThresholdsInvalid(f"A milestone is a number of signatures from 1 to {MAX_COUNT:,}.")
    passed = [count for count in counts if count <= current]
    if passed:
        raise ThresholdsInvalid(
            f"The petition has {current:,} signatures already: choose numbers above it "
            f"(not {', '.join(f'{count:,}' for count in passed)})."
        )
    with transaction.atomic():
        CountThreshold.objects.filter(petition=petition, crossed_at__isnull=True).exclude(count__in=counts).delete()
        CountThreshold.objects.bulk_create(
            [CountThreshold(petition=petition, count=count) for count in counts], ignore_conflicts=True
        )
    return list(CountThreshold.objects.filter(petition=petition))


def _organisers_tell(*, threshold: CountThreshold, draft_number: int) -> None:
    petition = threshold.petition
    draft_url = absolute_url(reverse("petitions:organise_update", args=[petition.slug, draft_number]))
    petition_members_tell(
        petition=petition, role=MembershipRole.ORGANISER, subject=f"{threshold.count:,} signatures: {petition.title}",
        template="petitions/email/threshold_crossed.txt", context={"count": threshold.count, "draft_url": draft_url},
        idempotency_key=f"threshold-crossed:{threshold.pk}",
    )  # fmt: skip


def petition_thresholds_handle(*, now: datetime | None = None) -> int:
    """Tell the organisers of every threshold crossed and not yet told of, each with a draft update. Returns how many.

    Safe to run twice or concurrently: a threshold is locked (SKIP LOCKED) and stamped in the transaction that
    drafts its update and writes its e-mail."""
    now = now or timezone.now()
    handled = 0
    while True:
        with transaction.atomic():
            threshold = (
                CountThreshold.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("petition")
                .filter(crossed_at__isnull=False, handled_at__isnull=True)
                .order_by("crossed_at", "count")
                .first()
            )
            if threshold is None:
                return handled
            petition = threshold.petition
            draft = petition_update_create(
                petition=petition, by=None, title=f"{threshold.count:,} signature{'' if threshold.count == 1 else 's'}",
                body=render_to_string("petitions/milestone_update.html", {"petition": petition,
                                                                          "count": threshold.count}),
                kind=UpdateKind.MILESTONE, now=now,
            )  # fmt: skip
            _organisers_tell(threshold=threshold, draft_number=draft.number)
            CountThreshold.objects.filter(pk=threshold.pk).update(handled_at=now)
        handled += 1
        logger.info("Petition %s passed %s signatures; its organisers were told", petition.pk, threshold.count)
