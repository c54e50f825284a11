"""What a person can ask about their own data, by e-mail address: a copy of everything held under it (sent to that
address) and its erasure (confirmed from a link sent to that address). The page answers the same whether or not
the address is known, and nothing is sent to an address the site holds nothing for, so the form can be used neither
to learn who signed nor to send mail to strangers.

Other apps keep records under a person's address too (sign-ons, in deliverables). The ledger sits below them and
does not import them: they answer the two signals below, connected in their AppConfig.ready().
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import pagecache
from core.links import absolute_url
from core.mail import outbound_email_queue
from core.services.scrub import outbound_email_scrub_for, outbound_email_scrub_to
from signatures.email import email_canonical
from signatures.models import Signature, SignatureState
from signatures.services.counts import counts_flush_soon
from signatures.services.privacy import SIGNER_ERASED

logger = logging.getLogger(__name__)

ERASE_SALT = "signatures.data-erase"

# Sent with canonical=; each receiver returns a dict of what it holds under that address for the copy's template
# (an empty dict when nothing), e.g. {"signons": [...]}.
personal_data_collect = Signal()
# Sent with canonical= and now=, inside the erasure's transaction; each receiver erases its records and returns
# (how many, the addresses they were written to), so the mail sent to those addresses is scrubbed as well.
personal_data_erase = Signal()


class EraseLinkInvalid(Exception):
    """The erasure link is damaged, or older than VIGIL_DATA_ERASE_LINK_MAX_AGE."""


def _held(canonical: str) -> tuple[list[Signature], dict]:
    signatures = list(
        Signature.objects.filter(canonical_email=canonical, anonymised_at__isnull=True)
        .select_related("petition")
        .order_by("created_at")
    )
    others: dict = {}
    for _receiver, held in personal_data_collect.send(sender=None, canonical=canonical):
        others.update(held)
    return signatures, others


def signer_data_request(*, email: str, kind: str, now: datetime | None = None) -> bool:
    """Handle a request for a copy ("copy") or the erasure ("erase") of what is held under `email`. When something is
    held, an e-mail goes to that address (the copy itself, or a link that confirms the erasure); otherwise nothing
    is sent. Returns whether a message was queued (for tests and logs only: the page says the same either way).
    Raises signatures.email.InvalidEmail for an address that cannot be one."""
    canonical = email_canonical(email)
    signatures, others = _held(canonical)
    if not signatures and not others:
        return False
    now = now or timezone.now()
    context = {**others, "signatures": signatures, "site_name": settings.SITE_NAME, "now": now}
    if kind == "erase":
        token = signing.TimestampSigner(salt=ERASE_SALT).sign(canonical)
        context["erase_url"] = absolute_url(reverse("petitions:my_data_erase", args=[token]))
        context["max_age_hours"] = settings.VIGIL_DATA_ERASE_LINK_MAX_AGE // 3600
        subject, template = "Erase what we hold under your address", "signatures/email/data_erase.txt"
    else:
        subject, template = "A copy of what we hold under your address", "signatures/email/data_copy.txt"
    message = EmailMessage(
        subject=f"[{settings.SITE_NAME}] {subject}", body=render_to_string(template, context), to=[email.strip()]
    )
    outbound_email_queue(message)
    return True


def erase_link_read(*, token: str) -> str:
    """The canonical address an erasure link stands for; EraseLinkInvalid if it is damaged or too old."""
    try:
        return signing.TimestampSigner(salt=ERASE_SALT).unsign(token, max_age=settings.VIGIL_DATA_ERASE_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise EraseLinkInvalid("This link is too old. Ask again from the “Your data” page.") from exc
    except signing.BadSignature as exc:
        raise EraseLinkInvalid("This link is damaged. Copy the whole link from the e-mail, or ask again.") from exc


def signer_data_erase(*, token: str, now: datetime | None = None) -> int:
    """Erase everything held under the address of an erasure link: every signature under it is withdrawn (out of
    counts and packets) and anonymised; sign-ons lose their contact details and proof; the e-mails written about
    them are scrubbed. Returns how many records were erased (0 when done before: safe to press twice)."""
    canonical = erase_link_read(token=token)
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Signature.objects.filter(canonical_email=canonical, anonymised_at__isnull=True).values_list("pk", flat=True)
        )
        addresses = {canonical}
        addresses |= set(Signature.objects.filter(pk__in=ids).values_list("email", flat=True))
        Signature.objects.filter(pk__in=ids).exclude(state=SignatureState.WITHDRAWN).update(
            state=SignatureState.WITHDRAWN, withdrawn_at=now
        )
        Signature.objects.filter(pk__in=ids).update(**SIGNER_ERASED, anonymised_at=now)
        others = 0
        for _receiver, (erased, written_to) in personal_data_erase.send(sender=None, canonical=canonical, now=now):
            others += erased
            addresses |= written_to
        outbound_email_scrub_for(key="signature_id", values=ids, now=now)
        outbound_email_scrub_to(addresses=addresses, now=now)
        if ids:
            counts_flush_soon()
            pagecache.after_commit(pagecache.content_changed)  # names gone from the pages' lists of recent signers
    if ids or others:
        logger.info("Erased %d signature(s) and %d other record(s) at their owner's request", len(ids), others)
    return len(ids) + others
