"""Writes and workflows of the shared mechanisms: the e-mail outbox."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.mail import delivery_message
from core.models import OutboundEmail

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message could not be handed to the mail server this time."""


def outbound_email_send(*, email_id: int, now: datetime | None = None) -> OutboundEmail | None:
    """Deliver one outbox message once.

    Safe to call twice or concurrently: the row is locked while it is delivered, and a sent or abandoned message is
    left alone. A failed attempt is recorded on the row and raised as DeliveryError so the task can retry; after
    VIGIL_OUTBOX_MAX_ATTEMPTS the message is marked failed, where the admin shows it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        row = OutboundEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id).first()
        if row is None or row.sent_at or row.failed_at:
            return row
        row.attempts += 1
        row.last_attempt_at = now
        try:
            delivery_message(row).send()
        except Exception as exc:  # any transport failure: record it where a person will see it
            failure = exc
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= settings.VIGIL_OUTBOX_MAX_ATTEMPTS:
                row.failed_at = now
                logger.error("Giving up on e-mail %s after %s attempts: %s", row.pk, row.attempts, row.last_error)
        else:
            failure = None
            row.sent_at = now
            row.last_error = ""
        row.save(update_fields=["attempts", "last_attempt_at", "last_error", "sent_at", "failed_at"])
    if failure is not None and row.failed_at is None:
        raise DeliveryError(row.last_error) from failure
    return row


def outbound_email_sweep(*, now: datetime | None = None) -> list[int]:
    """Ids of unsent messages old enough that their first delivery was lost (a dead worker, a broker outage)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.VIGIL_OUTBOX_RESEND_AFTER_SECONDS)
    return list(
        OutboundEmail.objects.unsent()
        .filter(created_at__lt=cutoff)
        .exclude(last_attempt_at__gte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
