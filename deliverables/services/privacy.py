"""Keeping as little as works, for deliverables: sign-ons are anonymised after their letter closes, uploads that
were never verified are deleted, and the download log forgets client addresses. A person's own copy and erasure
requests (signatures.services.data_requests) reach their sign-ons through the receivers at the end."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from deliverables.models import PrivateDownload, SignOn, SignOnState
from deliverables.private_files import private_delete

logger = logging.getLogger(__name__)


def private_downloads_prune(*, now: datetime | None = None) -> int:
    """Erase the hashed client address of download-log entries older than VIGIL_DOWNLOAD_LOG_ADDRESS_DAYS: the log
    keeps who (the account), what and when; the address served only to look into abuse while it was recent."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VIGIL_DOWNLOAD_LOG_ADDRESS_DAYS)
    return PrivateDownload.objects.filter(at__lt=cutoff).exclude(ip_hash="").update(ip_hash="")


def _signon_files_delete(signon) -> None:
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
    now = now or timezone.now()
    cutoff = now - timedelta(days=30 * settings.VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS)
    done = signons_anonymise(queryset=SignOn.objects.filter(letter__closed_at__lt=cutoff), now=now)
    if done:
        logger.info("Anonymised %d sign-on(s) of letters closed before %s", done, cutoff.date())
    return done


def signons_unverified_uploads_remove(*, now: datetime | None = None) -> int:
    """Delete the logo and proof document of sign-ons never confirmed by e-mail, or rejected, once they are older
    than VIGIL_SIGNON_UNVERIFIED_UPLOAD_DAYS: nobody will show or review them."""
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


def signons_held_for(*, canonical: str, **_kwargs) -> dict:
    """The sign-ons held under a canonical address, for a copy of a person's data (a data-request receiver)."""
    signons = list(
        SignOn.objects.filter(canonical_email=canonical, anonymised_at__isnull=True)
        .select_related("letter")
        .order_by("created_at")
    )
    return {"signons": signons} if signons else {}


def signons_erase_for(*, canonical: str, now: datetime, **_kwargs) -> tuple[int, set[str]]:
    """Anonymise the sign-ons under a canonical address at its owner's request (a data-request receiver). Returns
    how many, and every address they were written to, so the mail sent to those addresses is scrubbed too."""
    queryset = SignOn.objects.filter(canonical_email=canonical)
    addresses = set(queryset.values_list("email", flat=True))
    return signons_anonymise(queryset=queryset, now=now), addresses
