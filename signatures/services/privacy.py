"""Keeping as little as works: pending signatures expire, and signers become anonymous after a campaign ends.
Either way, the e-mails written to them are scrubbed from the outbox at the same moment."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.services import outbound_email_scrub_for
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


def private_downloads_prune(*, now: datetime | None = None) -> int:
    """Erase the hashed client address of download-log entries older than VIGIL_DOWNLOAD_LOG_ADDRESS_DAYS: the log
    keeps who (the account), what and when; the address served only to look into abuse while it was recent."""
    from signatures.models import PrivateDownload

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VIGIL_DOWNLOAD_LOG_ADDRESS_DAYS)
    return PrivateDownload.objects.filter(at__lt=cutoff).exclude(ip_hash="").update(ip_hash="")


def _signon_files_delete(signon) -> None:
    from django.core.files.storage import default_storage

    from signatures.private_files import private_delete

    if signon.proof_file:
        private_delete(signon.proof_file)
    if signon.logo:
        for rendition in signon.renditions or []:
            default_storage.delete(rendition["name"])
        signon.logo.delete(save=False)


def signons_anonymise(*, queryset, now: datetime) -> int:
    """Erase the private part of these sign-ons: the contact e-mail, the signer's name and role, the review note and
    the proof document (the file too). What the letter shows in public stays: the organisation's name, website and
    logo, or the shareholder's holding. Returns how many were erased."""
    from signatures.private_files import private_delete

    done = 0
    for signon in queryset.filter(anonymised_at__isnull=True).only("pk", "proof_file"):
        if signon.proof_file:
            private_delete(signon.proof_file)
        done += (
            type(signon)
            .objects.filter(pk=signon.pk, anonymised_at__isnull=True)
            .update(
                email="",
                canonical_email="",
                signer_name="",
                signer_role="",
                review_note="",
                proof_file="",
                proof_mimetype="",
                proof_size=0,
                anonymised_at=now,
            )
        )
    return done


def signons_anonymise_due(*, now: datetime | None = None) -> int:
    """Anonymise the sign-ons of letters closed more than VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS ago."""
    from signatures.models import SignOn

    now = now or timezone.now()
    cutoff = now - timedelta(days=30 * settings.VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS)
    done = signons_anonymise(queryset=SignOn.objects.filter(letter__closed_at__lt=cutoff), now=now)
    if done:
        logger.info("Anonymised %d sign-on(s) of letters closed before %s", done, cutoff.date())
    return done


def signons_unverified_uploads_remove(*, now: datetime | None = None) -> int:
    """Delete the logo and proof document of sign-ons never confirmed by e-mail, or rejected, once they are older
    than VIGIL_SIGNON_UNVERIFIED_UPLOAD_DAYS: nobody will show or review them."""
    from signatures.models import SignOn, SignOnState

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VIGIL_SIGNON_UNVERIFIED_UPLOAD_DAYS)
    done = 0
    due = (
        SignOn.objects.filter(created_at__lt=cutoff, uploads_removed_at__isnull=True)
        .filter(state__in=[SignOnState.PENDING, SignOnState.REJECTED])
        .exclude(logo="", proof_file="")
    )
    for signon in due:
        _signon_files_delete(signon)
        done += SignOn.objects.filter(pk=signon.pk).update(
            logo="", renditions=[], proof_file="", proof_mimetype="", proof_size=0, uploads_removed_at=now
        )
    return done
