"""Scrubbing the outbox: the personal part of a message (addresses, subject, body) is erased once it is sent and
its retention has passed, or at once when the person it was about withdraws or is erased; the row stays as a record."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.models import OutboundEmail

logger = logging.getLogger(__name__)


_SCRUBBED = {
    "to": [],
    "cc": [],
    "bcc": [],
    "reply_to": [],
    "headers": {},
    "subject": "",
    "body_text": "",
    "body_html": "",
    "render_context": {},
    "render_kind": "",  # nothing left to render it from
    "attachments": [],
    "last_error": "",
}


SCRUB_BATCH = 5_000


def outbound_email_scrub(*, ids, now: datetime | None = None) -> int:
    """Erase the personal data of these outbox rows: recipients, subject, bodies, headers, the rendering context and
    attachment paths. What stays: when it was written, sent or given up, its idempotency key, Message-ID and mailing.
    A row not yet sent is withheld (it could no longer be rendered or addressed, and its person asked for that).
    Returns how many rows were scrubbed."""
    now = now or timezone.now()
    ids = list(ids)
    done = 0
    for start in range(0, len(ids), SCRUB_BATCH):
        chunk = ids[start : start + SCRUB_BATCH]
        rows = OutboundEmail.objects.filter(pk__in=chunk, scrubbed_at__isnull=True)
        rows.filter(sent_at__isnull=True, failed_at__isnull=True).update(failed_at=now, withheld_at=now)
        done += rows.update(**_SCRUBBED, scrubbed_at=now, claimed_until=None)
    return done


def outbound_email_scrub_for(*, key: str, values, now: datetime | None = None) -> int:
    """Scrub the rows written about these objects: those whose rendering context has `key` (an indexed one, such as
    "signature_id") equal to one of `values`. For the services that withdraw, purge or anonymise a person."""
    values = list(values)
    total = 0
    for start in range(0, len(values), SCRUB_BATCH):
        chunk = values[start : start + SCRUB_BATCH]
        ids = OutboundEmail.objects.filter(**{f"render_context__{key}__in": chunk}, scrubbed_at__isnull=True)
        total += outbound_email_scrub(ids=list(ids.values_list("pk", flat=True)), now=now)
    return total


def outbound_email_scrub_to(*, addresses, now: datetime | None = None) -> int:
    """Scrub every message addressed to one of these addresses (compared without regard to case)."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    rows = OutboundEmail.objects.filter(scrubbed_at__isnull=True).annotate(_to=Cast("to", TextField()))
    total = 0
    for address in {address.strip().lower() for address in addresses if address and address.strip()}:
        total += outbound_email_scrub(ids=list(rows.filter(_to__icontains=address).values_list("pk", flat=True)),
                                      now=now)  # fmt: skip
    return total


def outbound_email_scrub_due(*, now: datetime | None = None) -> int:
    """Scrub every message sent or given up more than VIGIL_OUTBOX_RETENTION_DAYS ago (long enough to answer "did
    my e-mail go out?"). Returns how many rows were scrubbed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VIGIL_OUTBOX_RETENTION_DAYS)
    total = 0
    while True:
        ids = list(
            OutboundEmail.objects.filter(scrubbed_at__isnull=True, created_at__lt=cutoff)
            .exclude(sent_at__isnull=True, failed_at__isnull=True)
            .exclude(sent_at__gte=cutoff)
            .exclude(failed_at__gte=cutoff)
            .values_list("pk", flat=True)[:SCRUB_BATCH]
        )
        if not ids:
            break
        total += outbound_email_scrub(ids=ids, now=now)
    if total:
        logger.info("Scrubbed %d sent e-mail(s) older than %s", total, cutoff.date())
    return total
