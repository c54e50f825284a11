"""Keeping as little as works: pending signatures expire, and signers become anonymous after a campaign ends.
Either way, the e-mails written to them are scrubbed from the outbox at the same moment."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.services.scrub import outbound_email_scrub_for
from signatures.models import Signature, SignatureState

logger = logging.getLogger(__name__)

BATCH = 5_000

# What anonymising a signature erases (state, country, region and times stay, so the counts do): one list for the
# schedule (signatures_anonymise_closed) and for a person's own erasure (data_requests.signer_data_erase).
SIGNER_ERASED = {
    "first_name": "", "last_name": "", "email": "", "canonical_email": "", "email_domain": "", "town": "",
    "postal_code": "", "ip_hash": "", "referrer_host": "", "show_publicly": False, "contact_ok": False,
}  # fmt: skip


def signatures_pending_purge(*, now: datetime | None = None) -> int:
    """Delete pending signatures older than VIGIL_SIGNATURE_PENDING_PURGE_DAYS. Returns how many went.

    A pending row that a flush has not yet taken out of the counts (a withdrawn signer who signed again) waits for
    that flush, so the tallies never lose track of a row.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VIGIL_SIGNATURE_PENDING_PURGE_DAYS)
    removed = 0
    while True:
        with transaction.atomic():
            ids = list(
                Signature.objects.filter(state=SignatureState.PENDING, created_at__lt=cutoff, counted=False)
                .order_by("created_at")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            outbound_email_scrub_for(key="signature_id", values=ids, now=now)
            removed += Signature.objects.filter(pk__in=ids, state=SignatureState.PENDING, counted=False).delete()[0]
        if len(ids) < BATCH:
            break
    if removed:
        logger.info("Purged %s unconfirmed signature(s) older than %s", removed, cutoff.date())
    return removed


def signatures_anonymise_closed(*, petition_ids, now: datetime | None = None) -> int:
    """Erase the personal data of every signer of these petitions; state, country, region and times stay.

    Totals and breakdowns are untouched: the tallies count rows, and the rows remain.
    """
    now = now or timezone.now()
    done = 0
    for petition_id in petition_ids:
        while True:
            with transaction.atomic():
                ids = list(
                    Signature.objects.filter(petition_id=petition_id, anonymised_at__isnull=True).values_list(
                        "pk", flat=True
                    )[:BATCH]
                )
                if not ids:
                    break
                done += Signature.objects.filter(pk__in=ids, anonymised_at__isnull=True).update(
                    **SIGNER_ERASED, anonymised_at=now
                )
                outbound_email_scrub_for(key="signature_id", values=ids, now=now)
    if done:
        logger.info("Anonymised %s signature(s) of petitions %s", done, list(petition_ids))
    return done
