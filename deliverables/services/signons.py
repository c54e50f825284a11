"""Organisations and shareholders signing a letter: the sign-on's side of the ledger.

- `signon_create` records a pending sign-on and, in the same transaction, the e-mail with its confirmation link
  (the outbox, with an idempotency key). Two unique constraints decide whether the organisation has signed: one on
  the canonical contact e-mail, one on the canonical website (host without "www.", and path). A conflict gets the
  same answer as a new sign-on, so the form never tells anyone whether an address has signed; the address given is
  told by e-mail instead (at most once per VIGIL_SIGNATURE_NOTICE_INTERVAL): "you have already signed", with the
  confirmation link again if still pending, or "an organisation with this website has already signed".
- Websites are http or https URLs only, stored normalised (`website_normalise`): anything else would become a link.
- `signon_confirm` takes the e-mailed token (a conditional UPDATE: a reused link does nothing twice).
- `signon_verify` / `signon_reject` are the organisers' review; only verified sign-ons are public.
- A shareholder's proof document is checked by its content (a PDF's header and trailer, or an image through the
  image pipeline), capped at VIGIL_PROOF_MAX_BYTES, and stored under VIGIL_PRIVATE_ROOT.
"""

import io
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core import pagecache
from core.images import (
    CleanImage,
    ImageRejected,
    clean_image,
    max_bytes,
    renditions_current,
    renditions_store,
    validate_image_upload,
)
from core.jobs import enqueue
from core.links import absolute_url
from core.mail import outbound_email_queue
from deliverables.models import HoldingKind, SignOn, SignOnState
from deliverables.pdf import BIDI_AND_INVISIBLE
from deliverables.private_files import private_write_bytes
from signatures.email import InvalidEmail, email_canonical, email_for_sending

logger = logging.getLogger(__name__)

CONFIRM_SALT = "signatures.signon.confirm"
NAME_MAX = 200
LOGO_RENDITION_WIDTHS = (320,)  # a logo is shown small: one rendition, never enlarged


class SignOnError(ValueError):
    """A sign-on that cannot be recorded; the message is for the person signing."""


class SignOnTokenError(SignOnError):
    pass


@dataclass(frozen=True)
class SignOnDetails:
    name: str
    signer_name: str
    email: str
    signer_role: str = ""
    website: str = ""
    holding_kind: str = ""
    shares: int | None = None


@dataclass(frozen=True)
class SignOnResult:
    """What signon_create did. The page answers both outcomes alike; only the e-mail differs."""

    outcome: str  # "created", or "already": this address or this website has signed (the address was told)
    signon: SignOn | None = None  # the new sign-on ("created" only)


@dataclass(frozen=True)
class Proof:
    content: bytes
    mimetype: str
    extension: str


# --- Clean values ---------------------------------------------------------------------------------------------------


def text_clean(value: str, *, field: str, max_length: int = NAME_MAX, required: bool = True) -> str:
    """A name as it may be printed: NFC, single spaces, no markup, no control, bidirectional or invisible
    characters (removed), at most max_length characters (refused, not cut)."""
    value = unicodedata.normalize("NFC", value or "")
    value = "".join(char for char in value if char not in BIDI_AND_INVISIBLE)
    if any(unicodedata.category(char) == "Cc" and char not in "\t\n\r" for char in value):
        raise SignOnError(f"The {field} contains control characters.")
    value = " ".join(value.split())
    if required and not value:
        raise SignOnError(f"Enter the {field}.")
    if "<" in value or ">" in value:
        raise SignOnError(f"The {field} cannot contain < or >.")
    if len(value) > max_length:
        raise SignOnError(f"The {field} has at most {max_length} characters.")
    return value


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")
_URL_SAFE = "/%:@!$&'()*+,;=-._~"
WEBSITE_MAX = 300  # SignOn.website


def _website_parts(url: str) -> tuple[str, str, str]:
    """(the normalised URL, its host, its path as given) of an http or https website; SignOnError otherwise."""
    raw = (url or "").strip()
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in raw):
        raise SignOnError("The website address cannot contain spaces or control characters.")
    scheme = _SCHEME.match(raw)
    if raw.startswith("//"):
        raw = f"https:{raw}"
    elif scheme is None or raw[scheme.end() : scheme.end() + 1].isdigit():  # no scheme, or "host:port"
        raw = f"https://{raw}"
    elif scheme.group(1).lower() not in ("http", "https"):
        raise SignOnError("Give the website as an http:// or https:// address, like https://example.org.")
    try:
        parts = urlsplit(raw)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
        host = host.encode("idna").decode("ascii").lower() if host else ""
    except (ValueError, UnicodeError) as exc:
        raise SignOnError("The website is not a valid address.") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise SignOnError("Give the website as an http:// or https:// address, like https://example.org.")
    if parts.username is not None or parts.password is not None:
        raise SignOnError("The website address cannot contain a user name or password.")
    if not _HOST.fullmatch(host):
        raise SignOnError("Give the organisation's website, like https://example.org.")
    scheme_name = parts.scheme.lower()
    default_port = {"http": 80, "https": 443}[scheme_name]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    normalised = urlunsplit(
        (scheme_name, netloc, quote(parts.path, safe=_URL_SAFE), quote(parts.query, safe=_URL_SAFE + "?"), "")
    )
    if len(normalised) > WEBSITE_MAX:
        raise SignOnError(f"The website address has at most {WEBSITE_MAX} characters.")
    return normalised, host, parts.path


def website_normalise(url: str) -> str:
    """The website as stored and linked: "WWW.Example.org/About" → "https://www.example.org/About".

    Only http and https are accepted (a javascript: or data: address would run when the link is followed); the
    scheme and host are lower case, a default port, user name, password and fragment are not kept."""
    if not (url or "").strip():
        return ""
    return _website_parts(url)[0]


def website_canonical(url: str) -> str:
    """What the per-letter uniqueness of websites compares: "https://www.Example.org/about/" → "example.org/about"."""
    if not (url or "").strip():
        return ""
    _normalised, host, path = _website_parts(url)
    return f"{host.removeprefix('www.')}{path.rstrip('/').lower()}"[:300]


def signon_upload_max_bytes(*, letter) -> int:
    """The largest file the letter's form takes: a logo (an image) on a coalition letter, a proof document on a
    shareholders' letter."""
    return max_bytes() if letter.is_coalition else settings.VIGIL_PROOF_MAX_BYTES


def proof_check(file) -> Proof:
    """A shareholder's proof document: a PDF or an image (JPEG, PNG, WebP, GIF), by content, within the size cap."""
    cap = settings.VIGIL_PROOF_MAX_BYTES
    size = getattr(file, "size", None)
    if size is not None and size > cap:
        raise SignOnError(f"The proof document is over {cap // (1024 * 1024)} MB. Send a smaller file.")
    file.seek(0)
    content = file.read(cap + 1)
    file.seek(0)
    if len(content) > cap:
        raise SignOnError(f"The proof document is over {cap // (1024 * 1024)} MB. Send a smaller file.")
    if content.startswith(b"%PDF-"):
        if b"%%EOF" not in content[-2048:]:
            raise SignOnError("This PDF is damaged or incomplete. Save it again and send it.")
        return Proof(content=content, mimetype="application/pdf", extension="pdf")
    try:
        validate_image_upload(io.BytesIO(content))
        cleaned = clean_image(io.BytesIO(content))
    except ImageRejected as exc:
        raise SignOnError("The proof document must be a PDF or an image (JPEG, PNG, WebP or GIF).") from exc
    return Proof(content=cleaned.content, mimetype=f"image/{cleaned.format}", extension=cleaned.extension)


def logo_check(file) -> CleanImage:
    """An organisation's logo through the image pipeline: by content, size and pixel count, metadata removed."""
    try:
        validate_image_upload(file)
        return clean_image(file)
    except ImageRejected as exc:
        raise SignOnError(" ".join(exc.messages)) from exc


# --- Tokens and mail ------------------------------------------------------------------------------------------------


def signon_confirm_token(*, signon: SignOn) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(f"{signon.pk}.{signon.generation}")


def signon_for_token(*, token: str) -> SignOn:
    try:
        value = signing.TimestampSigner(salt=CONFIRM_SALT).unsign(
            token, max_age=settings.VIGIL_SIGNATURE_CONFIRM_MAX_AGE
        )
        pk, generation = (int(part) for part in value.split("."))
    except signing.SignatureExpired as exc:
        raise SignOnTokenError("This confirmation link has expired. Sign again to get a new one.") from exc
    except (signing.BadSignature, ValueError) as exc:
        raise SignOnTokenError("This link is not one we sent, or it was cut short. Copy the whole link.") from exc
    signon = SignOn.objects.select_related("letter__petition").filter(pk=pk, generation=generation).first()
    if signon is None:
        raise SignOnTokenError("This sign-on no longer exists.")
    return signon


def _confirm_url(signon: SignOn) -> str:
    return absolute_url(reverse("deliverables:signon_confirm", args=[signon_confirm_token(signon=signon)]))


def _confirmation_queue(*, signon: SignOn, letter) -> None:
    context = {
        "signon": signon,
        "letter": letter,
        "petition": letter.petition,
        "confirm_url": _confirm_url(signon),
        "site_name": settings.SITE_NAME,
    }
    message = EmailMultiAlternatives(
        subject=f"[{settings.SITE_NAME}] Confirm your signature on “{letter.title}”",
        body=render_to_string("deliverables/letters/email/signon_confirm.txt", context),
        to=[signon.email],
    )
    outbound_email_queue(message, idempotency_key=f"signon-confirm:{signon.pk}:{signon.generation}")


def _repeat_note_queue(*, letter, email: str, canonical: str, canonical_website: str, now: datetime) -> None:
    """Tell the address given to a sign-on that collided why nothing new was recorded: it has signed already (with
    the confirmation link again while pending), or an organisation with this website has. At most one note per
    address, letter and VIGIL_SIGNATURE_NOTICE_INTERVAL: the outbox's idempotency key says so."""
    signed = SignOn.objects.filter(letter=letter, canonical_email=canonical).first()
    taken = None
    if signed is None and canonical_website:
        taken = SignOn.objects.filter(letter=letter, canonical_website=canonical_website).first()
    if signed is None and taken is None:
        raise SignOnError("We could not record your signature just now. Try again in a moment.")
    interval = max(int(settings.VIGIL_SIGNATURE_NOTICE_INTERVAL), 1)
    window = int(now.timestamp()) // interval
    address = salted_hmac("signatures.signon.note", canonical).hexdigest()[:32]  # no address in the key
    context = {
        "letter": letter,
        "petition": letter.petition,
        "signon": signed,
        "website": taken.website if taken is not None else "",
        "confirm_url": _confirm_url(signed) if signed is not None and signed.state == SignOnState.PENDING else "",
        "site_name": settings.SITE_NAME,
    }
    message = EmailMultiAlternatives(
        subject=f"[{settings.SITE_NAME}] Your signature on “{letter.title}”",
        body=render_to_string("deliverables/letters/email/signon_already.txt", context),
        to=[signed.email if signed is not None else email],  # the mailbox that signed, as it confirmed it
    )
    outbound_email_queue(message, idempotency_key=f"signon-note:{letter.pk}:{address}:{window}")


# --- Writes ---------------------------------------------------------------------------------------------------------


def signon_create(
    *,
    letter,
    details: SignOnDetails,
    logo: CleanImage | None = None,
    proof: Proof | None = None,
    now: datetime | None = None,
) -> SignOnResult:
    """Record a pending sign-on on an open letter and e-mail its confirmation link.

    Raises SignOnError (closed letter, bad details). The same e-mail or website on this letter is not an error:
    nothing is recorded, the address given is told by e-mail, and the outcome is "already".
    """
    now = now or timezone.now()
    if not letter.accepts_signatures or letter.current_version_id is None:
        raise SignOnError("This letter is not open for signatures.")
    coalition = letter.is_coalition
    name = text_clean(details.name, field="organisation's name" if coalition else "shareholder's name")
    signer_name = text_clean(details.signer_name, field="name of the person signing", max_length=120)
    signer_role = text_clean(details.signer_role, field="role", max_length=120, required=False)
    try:
        canonical = email_canonical(details.email)
        sending = email_for_sending(details.email)
    except InvalidEmail as exc:
        raise SignOnError(str(exc)) from exc
    website = website_normalise(details.website)
    canonical_website = website_canonical(details.website)
    if coalition and not canonical_website:
        raise SignOnError("Give the organisation's website.")
    holding_kind, shares = "", None
    if not coalition:
        holding_kind = details.holding_kind or HoldingKind.UNDISCLOSED
        if holding_kind == HoldingKind.SHARES:
            if not details.shares or details.shares < 1:
                raise SignOnError("Give the number of shares, or choose “undisclosed”.")
            shares = int(details.shares)
        elif holding_kind != HoldingKind.UNDISCLOSED:
            raise SignOnError("Choose a number of shares or “undisclosed”.")
    signon = SignOn(
        letter=letter,
        letter_version_id=letter.current_version_id,
        name=name,
        website=website,
        canonical_website=canonical_website,
        signer_name=signer_name,
        signer_role=signer_role,
        email=sending,
        canonical_email=canonical,
        holding_kind=holding_kind,
        shares=shares,
        created_at=now,
    )
    if logo is not None and coalition:
        signon.logo.save(f"logo.{logo.extension}", ContentFile(logo.content), save=False)
        signon.logo_width, signon.logo_height = logo.width, logo.height
    if proof is not None and not coalition:
        signon.proof_file = f"proofs/{letter.petition_id}/{letter.pk}/{secrets.token_hex(16)}.{proof.extension}"
        signon.proof_mimetype = proof.mimetype
        signon.proof_size = len(proof.content)
    try:
        with transaction.atomic():
            signon.save(force_insert=True)
            _confirmation_queue(signon=signon, letter=letter)
    except IntegrityError as exc:
        if signon.logo:
            signon.logo.delete(save=False)
        text = str(exc)
        if "signon_one_per_website" not in text and "signon_one_per_email" not in text:
            raise
        _repeat_note_queue(
            letter=letter, email=sending, canonical=canonical, canonical_website=canonical_website, now=now
        )
        return SignOnResult(outcome="already")
    if proof is not None and signon.proof_file:
        private_write_bytes(signon.proof_file, proof.content)
    if signon.logo:
        enqueue("deliverables.tasks.signon_logo_render_task", signon.pk)
    return SignOnResult(outcome="created", signon=signon)


def signon_confirm(*, token: str, now: datetime | None = None) -> tuple[SignOn, bool]:
    """Confirm the contact e-mail of a sign-on. (signon, True) the first time, (signon, False) after."""
    now = now or timezone.now()
    signon = signon_for_token(token=token)
    updated = SignOn.objects.filter(pk=signon.pk, generation=signon.generation, state=SignOnState.PENDING).update(
        state=SignOnState.CONFIRMED, confirmed_at=now
    )
    if updated:
        pagecache.content_changed()
    signon.refresh_from_db()
    return signon, bool(updated)


def signon_review(*, signon: SignOn, verify: bool, by, note: str = "", now: datetime | None = None) -> SignOn:
    """An organiser verifies (only after the e-mail is confirmed) or rejects a sign-on."""
    now = now or timezone.now()
    if verify:
        updated = SignOn.objects.filter(
            pk=signon.pk, state__in=[SignOnState.CONFIRMED, SignOnState.REJECTED], confirmed_at__isnull=False
        ).update(state=SignOnState.VERIFIED, reviewed_at=now, reviewed_by=by, review_note=note[:500])
        if not updated and signon.state != SignOnState.VERIFIED:
            raise SignOnError("Only a sign-on whose e-mail address is confirmed can be verified.")
    else:
        SignOn.objects.filter(pk=signon.pk).exclude(state=SignOnState.REJECTED).update(
            state=SignOnState.REJECTED, reviewed_at=now, reviewed_by=by, review_note=note[:500]
        )
    pagecache.content_changed()  # the public letter lists verified co-signers
    signon.refresh_from_db()
    return signon


def signon_logo_render(*, signon_id: int) -> None:
    """A small JPEG (and WebP) of the logo for the compiled letter and the public page. Safe to run twice."""
    signon = SignOn.objects.filter(pk=signon_id).first()
    if signon is None or not signon.logo:
        return
    source = signon.logo.name
    if renditions_current(signon.renditions, source):
        return
    stored = renditions_store(signon.logo, widths=LOGO_RENDITION_WIDTHS)
    SignOn.objects.filter(pk=signon_id, logo=source).update(renditions=stored)
    pagecache.content_changed()
