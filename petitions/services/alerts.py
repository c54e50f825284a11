"""Trending alerts: when one hashed address or one uncommon e-mail domain passes VIGIL_SIGNATURE_BURST_THRESHOLD
signatures on a petition within an hour, its owners and organisers are e-mailed, once per source and hour (a
BurstAlert row, unique, written with the e-mail). The dashboard shows the same bursts (signatures.selectors
.signature_bursts); the organisers decide what to set aside."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.links import absolute_url
from petitions.models import BurstAlert, MembershipRole, Petition
from petitions.services.notices import petition_members_tell
from signatures.models import Signature
from signatures.selectors import signature_bursts

logger = logging.getLogger(__name__)


def petition_bursts_alert(*, now: datetime | None = None) -> int:
    """Beat, every few minutes: look at the petitions signed in the last two hours and tell the organisers of each
    burst not told of yet. Safe to run twice or concurrently. Returns how many alerts were sent."""
    now = now or timezone.now()
    recent = (
        Signature.objects.filter(created_at__gte=now - timedelta(hours=2))
        .order_by()
        .values_list("petition_id", flat=True)
        .distinct()
    )
    sent = 0
    for petition in Petition.objects.filter(pk__in=list(recent)):
        for burst in signature_bursts(petition_id=petition.pk, now=now, hours=2):
            sent += _alert(petition=petition, burst=burst, now=now)
    return sent


def _alert(*, petition: Petition, burst: dict, now: datetime) -> int:
    try:
        with transaction.atomic():
            alert = BurstAlert.objects.create(
                petition=petition, kind=burst["kind"], value=burst["value"], window_start=burst["since"],
                count=burst["count"], created_at=now,
            )  # fmt: skip
            dashboard_url = absolute_url(reverse("petitions:organise_dashboard", args=[petition.slug]))
            petition_members_tell(
                petition=petition, role=MembershipRole.ORGANISER, subject=f"A burst of signatures: {petition.title}",
                template="petitions/email/burst_alert.txt", idempotency_key=f"burst-alert:{alert.pk}",
                context={"burst": burst, "threshold": settings.VIGIL_SIGNATURE_BURST_THRESHOLD,
                         "dashboard_url": dashboard_url},
            )  # fmt: skip
    except IntegrityError:
        return 0  # told already, for this source and hour
    logger.info("Petition %s: %s signatures from one %s within an hour; organisers told",
                petition.pk, burst["count"], burst["kind"])  # fmt: skip
    return 1
