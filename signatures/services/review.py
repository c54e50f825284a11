"""Fraud review: organisers strike out bursts of signatures, with a reason on record; the counts follow."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from signatures.models import Signature, SignatureInvalidation, SignatureState
from signatures.services.counts import counts_flush_soon

logger = logging.getLogger(__name__)


class ReviewError(ValueError):
    pass


def signatures_invalidate(
    *,
    petition,
    by,
    reason: str,
    ip_hash: str = "",
    email_domain: str = "",
    since: datetime,
    until: datetime,
    now: datetime | None = None,
) -> SignatureInvalidation:
    """Set aside the pending and confirmed signatures of one petition from one hashed address or one e-mail domain
    made between since and until. They leave the counts at the next flush; the decision and its reason are kept."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("Say why these signatures are being set aside: the reason is kept on record.")
    if bool(ip_hash) == bool(email_domain):
        raise ReviewError("Choose either one address or one e-mail domain.")
    if since >= until:
        raise ReviewError("The time window is empty.")
    criteria = {
        "kind": "ip" if ip_hash else "domain",
        "value": ip_hash or email_domain,
        "since": since.isoformat(),
        "until": until.isoformat(),
    }
    matching = Signature.objects.filter(
        petition=petition,
        state__in=[SignatureState.PENDING, SignatureState.CONFIRMED],
        created_at__gte=since,
        created_at__lt=until,
        **({"ip_hash": ip_hash} if ip_hash else {"email_domain": email_domain}),
    )
    with transaction.atomic():
        invalidation = SignatureInvalidation.objects.create(
            petition=petition, created_by=by, reason=reason, criteria=criteria, created_at=now
        )
        count = matching.update(state=SignatureState.INVALIDATED, invalidated_at=now, invalidation=invalidation)
        invalidation.signature_count = count
        invalidation.save(update_fields=["signature_count"])
        counts_flush_soon()
    logger.warning(
        "%s set aside %s signature(s) on petition %s (%s %s): %s",
        by,
        count,
        petition.pk,
        criteria["kind"],
        criteria["value"],
        reason,
    )
    return invalidation
