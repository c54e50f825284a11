"""Signing, confirming, withdrawing: the signer's side of the ledger.

- `signature_create` inserts a pending signature and, in the same transaction, its confirmation e-mail (the outbox:
  a committed signature always has its message; the outbox's idempotency key sends it once). The unique constraint
  decides whether the person has signed; a conflict is an answer, not an error: the existing row is locked and
  the mailbox owner gets, at most once per VIGIL_SIGNATURE_NOTICE_INTERVAL, a note ("you have already signed", or a
  fresh link if still pending). A withdrawn signer who signs again starts over with a new confirmation.
- `signature_confirm` and `signature_withdraw` take the e-mailed tokens; each is a conditional UPDATE, so a reused
  link or a double click does nothing twice.
- Counts are not touched here: see services/counts.py.
"""

import hashlib
import hmac
import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.mail import outbound_email_queue
from signatures.countries import COUNTRY_NAMES
from signatures.email import InvalidEmail, email_canonical, email_for_sending
from signatures.models import Signature, SignatureState
from signatures.services.counts import counts_flush_soon

logger = logging.getLogger(__name__)

CONFIRM_SALT = "signatures.confirm"
WITHDRAW_SALT = "signatures.withdraw"


class SignatureError(ValueError):
    """A signing step that cannot happen; the message is for the signer."""


class PetitionNotOpen(SignatureError):
    pass


class TokenInvalid(SignatureError):
    pass


class TokenExpired(SignatureError):
    pass


class TokenStale(SignatureError):
    """The link belongs to a signature that has since been withdrawn or replaced."""


__all__ = ["InvalidEmail"]


@dataclass(frozen=True)
class SignerDetails:
    first_name: str
    last_name: str
    email: str
    country: str
    region: str = ""
    town: str = ""
    postal_code: str = ""
    show_publicly: bool = False
    contact_ok: bool = False


@dataclass(frozen=True)
class SignatureOrigin:
    ip: str = ""
    referrer: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""


@dataclass(frozen=True)
class SignResult:
    signature_id: int
    outcome: str  # "created", "resigned" (a withdrawn signer signed again) or "already"


# --- Privacy helpers ---------------------------------------------------------------------------------------------


def client_address_hash(ip: str) -> str:
    """HMAC-SHA256 of a client's address under VIGIL_IP_HASH_KEY; an IPv6 address counts by its /64 network.

    The address itself is never stored. The key keeps the hash from being reversed by hashing all 2³² IPv4
    addresses; rotating the key makes older hashes incomparable, which is the point.
    """
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    text = str(ipaddress.ip_network(f"{address}/64", strict=False).network_address) if address.version == 6 else ip
    return hmac.new(settings.VIGIL_IP_HASH_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def referrer_host(referrer: str) -> str:
    """Only the host of where a signer came from: no paths, no query strings with someone's search terms."""
    try:
        host = urlsplit((referrer or "").strip()).hostname or ""
    except ValueError:
        return ""
    return host.lower()[:253]


# --- Tokens --------------------------------------------------------------------------------------------------------


def signature_confirm_token(*, signature: Signature) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(f"{signature.pk}.{signature.generation}")


def signature_withdraw_token(*, signature: Signature) -> str:
    return signing.Signer(salt=WITHDRAW_SALT).sign(f"{signature.pk}.{signature.generation}")


def _split(value: str) -> tuple[int, int]:
    try:
        pk, generation = value.split(".")
        return int(pk), int(generation)
    except ValueError as exc:
        raise TokenInvalid("This link is not one we sent.") from exc


def _confirm_token_read(token: str) -> tuple[int, int]:
    try:
        value = signing.TimestampSigner(salt=CONFIRM_SALT).unsign(
            token, max_age=settings.VIGIL_SIGNATURE_CONFIRM_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise TokenExpired("This confirmation link has expired. Ask for a new one below.") from exc
    except signing.BadSignature as exc:
        raise TokenInvalid("This link is not one we sent, or it was cut short. Copy the whole link.") from exc
    return _split(value)


def _withdraw_token_read(token: str) -> tuple[int, int]:
    try:
        value = signing.Signer(salt=WITHDRAW_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise TokenInvalid("This link is not one we sent, or it was cut short. Copy the whole link.") from exc
    return _split(value)


def signature_for_confirm_token(*, token: str) -> Signature:
    """The signature a confirmation link is for (the GET page shows it before the button that confirms)."""
    pk, generation = _confirm_token_read(token)
    signature = Signature.objects.select_related("petition").filter(pk=pk).first()
    if signature is None:
        raise TokenExpired("This signature is no longer waiting: unconfirmed signatures are removed after a while.")
    if signature.generation != generation:
        raise TokenStale("This link was replaced by a newer one. Use the link in the latest e-mail we sent.")
    return signature


def signature_for_withdraw_token(*, token: str) -> Signature:
    pk, generation = _withdraw_token_read(token)
    signature = Signature.objects.select_related("petition").filter(pk=pk).first()
    if signature is None or signature.generation != generation:
        raise TokenStale("This link no longer applies: the signature was removed or signed again since.")
    return signature


# --- E-mail --------------------------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.VIGIL_LINK_SCHEME}://{settings.VIGIL_SITE_DOMAIN}{path}"


def _mail_queue(*, signature: Signature, template: str, subject: str, idempotency_key: str) -> None:
    petition = signature.petition
    context = {
        "signature": signature,
        "petition": petition,
        "petition_url": _absolute(petition.get_absolute_url()),
        "confirm_url": _absolute(
            reverse("petitions:signature_confirm", args=[signature_confirm_token(signature=signature)])
        ),
        "withdraw_url": _absolute(
            reverse("petitions:signature_withdraw", args=[signature_withdraw_token(signature=signature)])
        ),
        "site_name": settings.SITE_NAME,
        "max_age_days": settings.VIGIL_SIGNATURE_CONFIRM_MAX_AGE // 86400,
    }
    message = EmailMultiAlternatives(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=render_to_string(f"signatures/email/{template}.txt", context),
        to=[signature.email],
    )
    message.attach_alternative(render_to_string(f"signatures/email/{template}.html", context), "text/html")
    outbound_email_queue(message, idempotency_key=idempotency_key)


def _confirmation_queue(*, signature: Signature) -> None:
    key = f"signature-confirm:{signature.pk}"
    if signature.generation > 1:
        key = f"{key}:g{signature.generation}"
    _mail_queue(signature=signature, template="confirm", subject="Confirm your signature", idempotency_key=key)


# --- Signing -------------------------------------------------------------------------------------------------------


def _clean_details(details: SignerDetails) -> SignerDetails:
    if details.country not in COUNTRY_NAMES:
        raise SignatureError("Choose a country from the list.")
    for name in (details.first_name, details.last_name):
        if not name.strip():
            raise SignatureError("Enter your first and last name.")
        if "<" in name or ">" in name:
            raise SignatureError("Names cannot contain < or >.")
    return details


def signature_create(
    *, petition, details: SignerDetails, origin: SignatureOrigin, now: datetime | None = None
) -> SignResult:
    """Record a pending signature and queue its confirmation; a duplicate is an answer, not an error.

    Raises PetitionNotOpen, InvalidEmail or SignatureError for what cannot be signed.
    """
    now = now or timezone.now()
    if not petition.accepts_signatures(now=now):
        raise PetitionNotOpen("This petition is not open for signatures.")
    details = _clean_details(details)
    canonical = email_canonical(details.email)
    sending = email_for_sending(details.email)
    for _attempt in range(3):
        signature = Signature(
            petition=petition,
            first_name=details.first_name.strip(),
            last_name=details.last_name.strip(),
            email=sending,
            canonical_email=canonical,
            email_domain=canonical.rsplit("@", 1)[1],
            country=details.country,
            region=details.region.strip(),
            town=details.town.strip(),
            postal_code=details.postal_code.strip().upper(),
            show_publicly=details.show_publicly,
            contact_ok=details.contact_ok,
            ip_hash=client_address_hash(origin.ip),
            referrer_host=referrer_host(origin.referrer),
            utm_source=origin.utm_source[:100],
            utm_medium=origin.utm_medium[:100],
            utm_campaign=origin.utm_campaign[:100],
            created_at=now,
            notified_at=now,
            mail_count=1,
        )
        try:
            with transaction.atomic():
                signature.save(force_insert=True)
                _confirmation_queue(signature=signature)
            return SignResult(signature_id=signature.pk, outcome="created")
        except IntegrityError:
            pass  # this person has signed: the constraint says so, whoever won the race
        result = _signature_again(petition=petition, canonical=canonical, details=details, now=now)
        if result is not None:
            return result
        # The row we collided with was purged meanwhile: try the insert again.
    raise SignatureError("We could not record your signature just now. Try again in a moment.")


def _signature_again(*, petition, canonical: str, details: SignerDetails, now: datetime) -> SignResult | None:
    interval = timedelta(seconds=settings.VIGIL_SIGNATURE_NOTICE_INTERVAL)
    with transaction.atomic():
        row = (
            Signature.objects.select_for_update()
            .select_related("petition")
            .filter(petition=petition, canonical_email=canonical)
            .first()
        )
        if row is None:
            return None
        if row.state == SignatureState.WITHDRAWN:
            # Signing again after withdrawing: a fresh start, confirmed again. Links of the old one stop working.
            row.state = SignatureState.PENDING
            row.generation += 1
            row.mail_count += 1
            row.notified_at = now
            row.withdrawn_at = None
            row.first_name = details.first_name.strip()
            row.last_name = details.last_name.strip()
            row.email = email_for_sending(details.email)
            row.country = details.country
            row.region = details.region.strip()
            row.town = details.town.strip()
            row.postal_code = details.postal_code.strip().upper()
            row.show_publicly = details.show_publicly
            row.contact_ok = details.contact_ok
            row.save()
            _confirmation_queue(signature=row)
            return SignResult(signature_id=row.pk, outcome="resigned")
        if row.notified_at is None or row.notified_at <= now - interval:
            row.mail_count += 1
            row.notified_at = now
            row.save(update_fields=["mail_count", "notified_at"])
            template = "reminder" if row.state == SignatureState.PENDING else "already_signed"
            subject = "Confirm your signature" if template == "reminder" else "You have already signed"
            _mail_queue(
                signature=row,
                template=template,
                subject=subject,
                idempotency_key=f"signature-note:{row.pk}:{row.mail_count}",
            )
        return SignResult(signature_id=row.pk, outcome="already")


def signature_confirmation_resend(*, petition, email: str, now: datetime | None = None) -> None:
    """Send a pending signer a fresh confirmation link, at most once per notice interval. Answers nothing either way:
    the page says "check your e-mail" whether or not the address has signed."""
    now = now or timezone.now()
    try:
        canonical = email_canonical(email)
    except InvalidEmail:
        return
    interval = timedelta(seconds=settings.VIGIL_SIGNATURE_RESEND_INTERVAL)
    with transaction.atomic():
        row = (
            Signature.objects.select_for_update()
            .select_related("petition")
            .filter(petition=petition, canonical_email=canonical, state=SignatureState.PENDING)
            .first()
        )
        if row is None or (row.notified_at and row.notified_at > now - interval):
            return
        row.mail_count += 1
        row.notified_at = now
        row.save(update_fields=["mail_count", "notified_at"])
        _mail_queue(
            signature=row,
            template="reminder",
            subject="Confirm your signature",
            idempotency_key=f"signature-note:{row.pk}:{row.mail_count}",
        )


def signature_confirm(*, token: str, now: datetime | None = None) -> tuple[Signature, bool]:
    """Confirm the signature a link is for. Returns (signature, True) the first time, (signature, False) after.

    Raises TokenInvalid, TokenExpired, TokenStale, or SignatureError when the petition no longer takes confirmations.
    """
    now = now or timezone.now()
    signature = signature_for_confirm_token(token=token)
    if signature.state == SignatureState.CONFIRMED:
        return signature, False
    if signature.state != SignatureState.PENDING:
        raise TokenStale("This signature was withdrawn or set aside, so the link no longer confirms it.")
    if not signature.petition.accepts_confirmations():
        raise SignatureError("This petition has been delivered or archived: it no longer takes signatures.")
    with transaction.atomic():
        updated = Signature.objects.filter(
            pk=signature.pk, generation=signature.generation, state=SignatureState.PENDING
        ).update(state=SignatureState.CONFIRMED, confirmed_at=now)
        counts_flush_soon()
    signature.refresh_from_db()
    if not updated:
        if signature.state == SignatureState.CONFIRMED:
            return signature, False
        raise TokenStale("This signature was withdrawn or set aside, so the link no longer confirms it.")
    return signature, True


def signature_withdraw(*, token: str, now: datetime | None = None) -> tuple[Signature, bool]:
    """Withdraw a signature: out of counts and exports; the name, town and postal code are erased.

    The canonical e-mail stays, so that signing again is recognised (and confirmed again).
    Returns (signature, True) the first time, (signature, False) if it was already withdrawn.
    """
    now = now or timezone.now()
    signature = signature_for_withdraw_token(token=token)
    with transaction.atomic():
        updated = Signature.objects.filter(
            pk=signature.pk,
            generation=signature.generation,
            state__in=[SignatureState.PENDING, SignatureState.CONFIRMED],
        ).update(
            state=SignatureState.WITHDRAWN,
            withdrawn_at=now,
            first_name="",
            last_name="",
            town="",
            postal_code="",
            show_publicly=False,
            contact_ok=False,
        )
        counts_flush_soon()
    signature.refresh_from_db()
    if not updated and signature.state != SignatureState.WITHDRAWN:
        raise TokenStale("This signature was set aside by the organisers and is not counted.")
    return signature, bool(updated)
