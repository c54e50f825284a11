"""One reminder to confirm, for signers who have not, VIGIL_SIGNATURE_REMINDER_HOURS after their last e-mail.

Beat runs `signatures_remind_due` every ten minutes. A reminder is written (into the outbox, for the pump) in the
same transaction that stamps `reminded_at` on the signature, under a row lock that a concurrent run skips: each
signature gets at most one, whatever runs at once or twice, and its idempotency key holds even if a stamp were lost.
None goes to a signature confirmed, withdrawn or set aside, nor for a petition that no longer takes signatures; one
written but not yet sent when the signer confirms is cancelled by the confirmation (signing.signature_confirm). The
link in it is the confirmation link, fresh: it works for as long as the first one did.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.mail import outbound_email_pump_soon
from core.models import OutboundEmail
from signatures.models import Signature, SignatureState
from signatures.services.signing import signature_reminder_row

logger = logging.getLogger(__name__)

BATCH = 500


def signatures_remind_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Write the reminders that are due. Returns how many were written; safe to run twice or concurrently."""
    hours = settings.VIGIL_SIGNATURE_REMINDER_HOURS
    if not hours:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(hours=hours)
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                Signature.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("petition")
                .alias(last_mail=Coalesce("notified_at", "created_at"))
                .filter(state=SignatureState.PENDING, reminded_at__isnull=True, last_mail__lte=cutoff)
                .filter(petition__status="open")
                .filter(Q(petition__closes_at__isnull=True) | Q(petition__closes_at__gt=now))
                .exclude(email="")
                .only("id", "generation", "email", "petition__id", "petition__status", "petition__closes_at")
                .order_by("created_at")[:batch]
            )
            if not due:
                break
            Signature.objects.filter(pk__in=[s.pk for s in due]).update(reminded_at=now)
            OutboundEmail.objects.bulk_create(
                [signature_reminder_row(signature=s, now=now) for s in due], ignore_conflicts=True
            )
        total += len(due)
        if len(due) < batch:
            break
    if total:
        logger.info("Reminded %s signer(s) to confirm", total)
        outbound_email_pump_soon()
    return total
