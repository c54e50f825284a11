"""Signing, confirming, withdrawing: the signer's side of the ledger.

- `signature_create` inserts a pending signature and, in the same statement, its confirmation e-mail (the outbox:
  a committed signature always has its message; the outbox's idempotency key sends it once). The unique constraint
  decides whether the person has signed; a conflict is an answer, not an error: the existing row is locked and
  the mailbox owner gets, at most once per VIGIL_SIGNATURE_NOTICE_INTERVAL, a note ("you have already signed", or a
  fresh link if still pending). A withdrawn signer who signs again starts over with a new confirmation.

  On PostgreSQL the new signature costs one statement and one round trip (see `_SIGN_SQL`):
  `WITH s AS (INSERT INTO signature ... ON CONFLICT (petition_id, canonical_email) DO NOTHING RETURNING id)
  INSERT INTO outbox ... SELECT ... FROM s`. Both rows commit together (one statement is one transaction in
  autocommit), so there is no savepoint, no IntegrityError to catch and no model instance to build. It replaced
  two ORM inserts in a savepoint, two e-mail templates rendered in the request (the worker renders them at
  delivery, from `render_kind="signature"` and a small JSON context, see `signature_mail_render`) and a Celery
  publish after commit (the outbox pump delivers in batches, core.services.outbox.outbound_email_pump);
  bench/README.md has the figures. Other databases (the embedded SQLite default) take the ORM path.
- `signature_confirm` and `signature_withdraw` take the e-mailed tokens; each is a conditional UPDATE, so a reused
  link or a double click does nothing twice.
- Counts are not touched here: see services/counts.py.
"""

import functools
import hashlib
import hmac
import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail.message import make_msgid
from django.db import IntegrityError, connection, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core.links import absolute_url, link_pattern
from core.mail import outbound_email_pump_soon
from core.models import Event, EventKind, OutboundEmail
from core.services.events import event_record, events_handle_soon
from core.services.scrub import outbound_email_scrub_for
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
    # A signature rule (services/rules.py) said to hold this one for review: its id.
    marked_rule: int | None = None


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


class _SignerAt(signing.TimestampSigner):
    """A TimestampSigner that stamps a given moment: a link rendered by the worker later carries the time the
    person signed (so its expiry runs from then, and rendering late or twice gives the same link)."""

    def __init__(self, *, at: int, **kwargs):
        super().__init__(**kwargs)
        self.at = at

    def timestamp(self) -> str:
        return signing.b62_encode(self.at)


def signature_confirm_token(*, signature, at: int | None = None) -> str:
    value = f"{signature.pk}.{signature.generation}"
    if at is None:
        return signing.TimestampSigner(salt=CONFIRM_SALT).sign(value)
    return _SignerAt(salt=CONFIRM_SALT, at=at).sign(value)


def signature_withdraw_token(*, signature, at: int | None = None) -> str:
    """A withdrawal link's token; it works for VIGIL_SIGNATURE_WITHDRAW_MAX_AGE from `at` (the moment the person
    signed, for a link in an e-mail rendered later) or from now."""
    value = f"{signature.pk}.{signature.generation}"
    if at is None:
        return signing.TimestampSigner(salt=WITHDRAW_SALT).sign(value)
    return _SignerAt(salt=WITHDRAW_SALT, at=at).sign(value)


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
        value = signing.TimestampSigner(salt=WITHDRAW_SALT).unsign(
            token, max_age=settings.VIGIL_SIGNATURE_WITHDRAW_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise TokenExpired("This withdrawal link is too old. You can still withdraw and erase your signature from "
                           "the “Your data” page, linked at the foot of every page.") from exc  # fmt: skip
    except signing.BadSignature as exc:
        raise TokenInvalid("This link is not one we sent, or it was cut short. Copy the whole link.") from exc
    return _split(value)


CONFIRM_FIELDS = (
    "pk", "generation", "state", "confirmed_at", "petition_id",
    "petition__id", "petition__slug", "petition__title", "petition__ask", "petition__status", "petition__closes_at",
    "petition__sends_events", "reminded_at", "marked",
)  # fmt: skip


def signature_for_confirm_token(*, token: str) -> Signature:
    """The signature a confirmation link is for (the GET page shows it before the button that confirms)."""
    pk, generation = _confirm_token_read(token)
    # Only what confirming and its two pages read: every signer of a surge comes here twice, and building the
    # query for both whole rows cost more than running it. Other fields load on first use.
    signature = Signature.objects.select_related("petition").only(*CONFIRM_FIELDS).filter(pk=pk).first()
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


SUBJECTS = {
    "confirm": "Confirm your signature",
    "reminder": "Confirm your signature",
    "already_signed": "You have already signed",
}


def _subject(template: str) -> str:
    return f"[{settings.SITE_NAME}] {SUBJECTS[template]}"


@dataclass(frozen=True)
class _MailSigner:
    """What the e-mail templates read of a signature (frozen when the mail was written)."""

    pk: int
    generation: int
    first_name: str
    is_confirmed: bool


def _signatures_for_mail(ids) -> dict:
    return (
        Signature.objects.select_related("petition")
        .only("id", "generation", "first_name", "state", "petition__slug", "petition__title")
        .in_bulk(ids)
    )


def signature_mail_render(context: dict, *, preloaded: dict | None = None) -> tuple[str, str, str]:
    """Render a signature e-mail written unrendered (OutboundEmail.render_kind "signature"): (subject, text, html).

    `context` is what signing stored: signature_id, generation, template (confirm, reminder, already_signed),
    signed_at (Unix time, stamped into the link) and, for notes, confirmed. The same context gives the same e-mail,
    whenever it is rendered. `preloaded` maps signature ids to signatures read for a whole batch
    (signature_mail_preload). Raises Signature.DoesNotExist if the signature was purged meanwhile.
    """
    signature = (preloaded or {}).get(context["signature_id"])
    if signature is None:
        signature = _signatures_for_mail([context["signature_id"]]).get(context["signature_id"])
    if signature is None:
        raise Signature.DoesNotExist(f"Signature {context['signature_id']} no longer exists.")
    signer = _MailSigner(
        pk=signature.pk,
        generation=context.get("generation", signature.generation),
        first_name=signature.first_name,
        is_confirmed=context.get("confirmed", signature.is_confirmed),
    )
    template = context["template"]
    petition = signature.petition
    confirm_token = signature_confirm_token(signature=signer, at=context["signed_at"])
    values = {
        "signature": signer,
        "petition": petition,
        "petition_url": absolute_url(petition.get_absolute_url()),
        "confirm_url": link_pattern("petitions:signature_confirm").format(token=confirm_token),
        "withdraw_url": link_pattern("petitions:signature_withdraw").format(
            token=signature_withdraw_token(signature=signer, at=context["signed_at"])
        ),
        "site_name": settings.SITE_NAME,
        "max_age_days": settings.VIGIL_SIGNATURE_CONFIRM_MAX_AGE // 86400,
    }
    return (
        _subject(template),
        render_to_string(f"signatures/email/{template}.txt", values),
        render_to_string(f"signatures/email/{template}.html", values),
    )


def signature_mail_preload(contexts: list[dict]) -> dict:
    """The signatures a batch of e-mails will render, in one query (see signature_mail_render's `preloaded`)."""
    return _signatures_for_mail({context["signature_id"] for context in contexts})


signature_mail_render.preload = signature_mail_preload


def _mail_context(*, signature: Signature, template: str, now: datetime) -> dict:
    context = {"signature_id": signature.pk, "generation": signature.generation, "template": template,
               "signed_at": int(now.timestamp())}  # fmt: skip
    if template == "already_signed":
        context["confirmed"] = signature.is_confirmed
    return context


def _outbox_fields(*, to: str, template: str) -> dict:
    message_id = make_msgid(domain=settings.VIGIL_MAIL_DOMAIN)
    return {"from_email": settings.DEFAULT_FROM_EMAIL, "to": [to], "headers": {"Message-ID": message_id},
            "message_id": message_id, "subject": _subject(template), "render_kind": "signature"}  # fmt: skip


def _mail_queue(*, signature: Signature, template: str, idempotency_key: str, now: datetime) -> None:
    """Write a signature e-mail into the outbox, unrendered, inside the current transaction; the pump sends it."""
    row = OutboundEmail(
        idempotency_key=idempotency_key,
        render_context=_mail_context(signature=signature, template=template, now=now),
        **_outbox_fields(to=signature.email, template=template),
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        if OutboundEmail.objects.filter(idempotency_key=idempotency_key).exists():
            return  # written before: at most one message per key
        raise
    outbound_email_pump_soon(email_id=row.pk)


def signature_reminder_row(*, signature: Signature, now: datetime) -> OutboundEmail:
    """The reminder to confirm, unsaved (written in bulk by signatures.services.reminders): once per signature and
    generation, by its idempotency key."""
    return OutboundEmail(
        idempotency_key=signature_reminder_key(signature_id=signature.pk, generation=signature.generation),
        render_context=_mail_context(signature=signature, template="reminder", now=now),
        **_outbox_fields(to=signature.email, template="reminder"),
    )


def signature_reminder_key(*, signature_id: int, generation: int) -> str:
    return f"signature-reminder:{signature_id}:g{generation}"


def _confirmation_key(*, signature_id: int, generation: int) -> str:
    key = f"signature-confirm:{signature_id}"
    return f"{key}:g{generation}" if generation > 1 else key


def _confirmation_queue(*, signature: Signature, now: datetime) -> None:
    _mail_queue(
        signature=signature,
        template="confirm",
        idempotency_key=_confirmation_key(signature_id=signature.pk, generation=signature.generation),
        now=now,
    )


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


def _signature_values(*, petition, details: SignerDetails, origin: SignatureOrigin, canonical: str, now: datetime):
    return {
        "petition_id": petition.pk,
        "state": SignatureState.PENDING.value,
        "first_name": details.first_name.strip(),
        "last_name": details.last_name.strip(),
        "email": email_for_sending(details.email),
        "canonical_email": canonical,
        "email_domain": canonical.rsplit("@", 1)[1],
        "country": details.country,
        "region": details.region.strip(),
        "town": details.town.strip(),
        "postal_code": details.postal_code.strip().upper(),
        "show_publicly": details.show_publicly,
        "contact_ok": details.contact_ok,
        "ip_hash": client_address_hash(origin.ip),
        "referrer_host": referrer_host(origin.referrer),
        "utm_source": origin.utm_source[:100],
        "utm_medium": origin.utm_medium[:100],
        "utm_campaign": origin.utm_campaign[:100],
        "marked": origin.marked_rule is not None,
        "marked_by_rule_id": origin.marked_rule,
        "generation": 1,
        "created_at": now,
        "notified_at": now,
        "mail_count": 1,
    }


@functools.cache
def _insert_plan(model, raw_columns: frozenset) -> tuple[str, list]:
    """Built once per process (per set of raw columns): the INSERT's column list and the fields in its order."""
    columns, fields = [], []
    for field in model._meta.concrete_fields:
        if not field.primary_key:
            columns.append(connection.ops.quote_name(field.column))
            fields.append(field)
    return ", ".join(columns), fields


def _insert_parts(model, values: dict, raw: dict | None = None) -> tuple[str, str, list]:
    """Column list, placeholders and parameters for a raw INSERT of `model`. Every concrete field is written:
    those missing from `values` get their model default, so a field added later (with a default) needs no change
    here. `raw` maps a column to an SQL expression and its parameters, used instead of a value.

    Values go to the driver as given except JSON (adapted) and defaults (prepared by their field): calling
    get_db_prep_save on every field is measurable on the signing path."""
    raw = raw or {}
    columns, fields = _insert_plan(model, frozenset(raw))
    placeholders, params = [], []
    for field in fields:
        if field.column in raw:
            expression, expression_params = raw[field.column]
            placeholders.append(expression)
            params.extend(expression_params)
            continue
        placeholders.append("%s")
        if field.attname not in values:
            params.append(field.get_db_prep_save(field.get_default(), connection))
        elif isinstance(field, models.JSONField):
            params.append(connection.ops.adapt_json_value(values[field.attname], field.encoder))
        else:
            params.append(values[field.attname])
    return columns, ", ".join(placeholders), params


# One round trip: the signature unless this person has signed (the partial unique index is the arbiter; ON CONFLICT
# waits for a concurrent insert of the same person to commit or roll back), and its confirmation e-mail, unrendered,
# only if the signature was inserted. Returns nothing on a conflict.
_SIGN_SQL = """
WITH s AS (
    INSERT INTO {signature} ({signature_columns}) VALUES ({signature_values})
    ON CONFLICT (petition_id, canonical_email) WHERE NOT (canonical_email = '') DO NOTHING
    RETURNING id
), o AS (
    INSERT INTO {outbox} ({outbox_columns}) SELECT {outbox_values} FROM s
    RETURNING id
)
SELECT s.id, o.id FROM s, o
"""


def _signature_insert(*, values: dict, to: str, now: datetime) -> tuple[int, int] | None:
    """(signature id, outbox id) of a new signature, or None if this person has signed this petition."""
    signature_columns, signature_values, signature_params = _insert_parts(Signature, values)
    outbox_columns, outbox_values, outbox_params = _insert_parts(
        OutboundEmail,
        {"created_at": now, **_outbox_fields(to=to, template="confirm")},
        raw={
            "idempotency_key": ("'signature-confirm:' || s.id", []),
            "render_context": (
                "jsonb_build_object('signature_id', s.id, 'generation', 1, 'template', 'confirm', 'signed_at', %s)",
                [int(now.timestamp())],
            ),
        },
    )
    sql = _SIGN_SQL.format(
        signature=connection.ops.quote_name(Signature._meta.db_table),
        signature_columns=signature_columns,
        signature_values=signature_values,
        outbox=connection.ops.quote_name(OutboundEmail._meta.db_table),
        outbox_columns=outbox_columns,
        outbox_values=outbox_values,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*signature_params, *outbox_params])
        found = cursor.fetchone()
    return (found[0], found[1]) if found else None


def _signature_insert_orm(*, values: dict, now: datetime) -> tuple[int, int] | None:
    """The same on other databases (the embedded SQLite default): an insert in a savepoint, the conflict caught."""
    try:
        with transaction.atomic():
            signature = Signature.objects.create(**values)
            row = OutboundEmail.objects.create(
                idempotency_key=_confirmation_key(signature_id=signature.pk, generation=1),
                render_context=_mail_context(signature=signature, template="confirm", now=now),
                **_outbox_fields(to=signature.email, template="confirm"),
            )
    except IntegrityError:
        return None
    return signature.pk, row.pk


def signature_prepare(
    *, petition, details: SignerDetails, origin: SignatureOrigin, now: datetime, canonical: str | None = None
) -> dict:
    """The row a signature would be, checked: what the intake hands to the writer (services/intake.py).
    `canonical` is email_canonical(details.email) when the caller has it already.
    Raises PetitionNotOpen, InvalidEmail or SignatureError."""
    if not petition.accepts_signatures(now=now):
        raise PetitionNotOpen("This petition is not open for signatures.")
    details = _clean_details(details)
    canonical = canonical or email_canonical(details.email)
    return _signature_values(petition=petition, details=details, origin=origin, canonical=canonical, now=now)


def signature_create(
    *, petition, details: SignerDetails, origin: SignatureOrigin, now: datetime | None = None
) -> SignResult:
    """Record a pending signature and queue its confirmation; a duplicate is an answer, not an error.

    `petition` needs only pk, status and closes_at (the sign view passes a cached snapshot).
    Raises PetitionNotOpen, InvalidEmail or SignatureError for what cannot be signed.
    """
    now = now or timezone.now()
    values = signature_prepare(petition=petition, details=details, origin=origin, now=now)
    return _signature_settle(values=values, details=details)


def _signature_settle(*, values: dict, details: SignerDetails, signed_before: bool = False) -> SignResult:
    """Insert a prepared signature or, if this person has signed (the constraint says so, whoever won the race),
    answer by _signature_again's rules; if the row collided with is purged meanwhile, insert again.
    `signed_before`: the caller already saw the insert collide, so start with the answer."""
    now = values["created_at"]
    for attempt in range(3):
        if attempt or not signed_before:
            if connection.vendor == "postgresql":
                inserted = _signature_insert(values=values, to=values["email"], now=now)
            else:
                inserted = _signature_insert_orm(values=values, now=now)
            if inserted is not None:
                signature_id, email_id = inserted
                outbound_email_pump_soon(email_id=email_id)
                return SignResult(signature_id=signature_id, outcome="created")
        result = _signature_again(
            petition_id=values["petition_id"],
            canonical=values["canonical_email"],
            details=details,
            now=now,
            marked_rule=values.get("marked_by_rule_id"),
        )
        if result is not None:
            return result
    raise SignatureError("We could not record your signature just now. Try again in a moment.")


def _signature_again(
    *, petition_id: int, canonical: str, details: SignerDetails, now: datetime, marked_rule: int | None = None
) -> SignResult | None:
    interval = timedelta(seconds=settings.VIGIL_SIGNATURE_NOTICE_INTERVAL)
    # Most repeats in a surge come within the notice interval: one plain read says there is nothing to do (a
    # concurrent repeat that does have something to do takes the lock below and does it once).
    seen = (
        Signature.objects.filter(petition_id=petition_id, canonical_email=canonical)
        .values_list("pk", "state", "notified_at")
        .first()
    )
    if seen is None:
        return None
    pk, state, notified_at = seen
    if state != SignatureState.WITHDRAWN and notified_at is not None and notified_at > now - interval:
        return SignResult(signature_id=pk, outcome="already")
    with transaction.atomic():
        row = Signature.objects.select_for_update().filter(petition_id=petition_id, canonical_email=canonical).first()
        if row is None:
            return None
        if row.state == SignatureState.WITHDRAWN:
            # Signing again after withdrawing: a fresh start, confirmed again. Links of the old one stop working.
            row.state = SignatureState.PENDING
            row.generation += 1
            row.mail_count += 1
            row.notified_at = now
            row.withdrawn_at = None
            row.reminded_at = None
            row.first_name = details.first_name.strip()
            row.last_name = details.last_name.strip()
            row.email = email_for_sending(details.email)
            row.country = details.country
            row.region = details.region.strip()
            row.town = details.town.strip()
            row.postal_code = details.postal_code.strip().upper()
            row.show_publicly = details.show_publicly
            row.contact_ok = details.contact_ok
            row.marked, row.marked_by_rule_id = marked_rule is not None, marked_rule
            row.reviewed_at = row.reviewed_by = None
            row.save()
            _confirmation_queue(signature=row, now=now)
            return SignResult(signature_id=row.pk, outcome="resigned")
        if row.notified_at is None or row.notified_at <= now - interval:
            row.mail_count += 1
            row.notified_at = now
            row.save(update_fields=["mail_count", "notified_at"])
            _mail_queue(
                signature=row,
                template="reminder" if row.state == SignatureState.PENDING else "already_signed",
                idempotency_key=f"signature-note:{row.pk}:{row.mail_count}",
                now=now,
            )
        return SignResult(signature_id=row.pk, outcome="already")


# Many signatures in one statement (the intake writer's batches): the same as _SIGN_SQL, row for row. Message-IDs
# are made by the database, one per inserted signature. Returns (petition_id, canonical_email) of each row inserted.
_SIGN_MANY_SQL = """
WITH s AS (
    INSERT INTO {signature} ({signature_columns}) VALUES {rows}
    ON CONFLICT (petition_id, canonical_email) WHERE NOT (canonical_email = '') DO NOTHING
    RETURNING id, petition_id, canonical_email, email, created_at
), m AS (
    SELECT s.*, '<' || gen_random_uuid() || '@' || %s || '>' AS message_id FROM s
), o AS (
    INSERT INTO {outbox} ({outbox_columns}) SELECT {outbox_values} FROM m AS s
)
SELECT petition_id, canonical_email FROM s
"""


def _signatures_insert_many(rows: list[dict]) -> set[tuple[int, str]]:
    """Insert pending signatures, each with its confirmation e-mail, skipping people who have signed; PostgreSQL."""
    if not rows:
        return set()
    signature_columns, placeholders, params = "", [], []
    for values in rows:
        signature_columns, row_placeholders, row_params = _insert_parts(Signature, values)
        placeholders.append(f"({row_placeholders})")
        params.extend(row_params)
    constant = _outbox_fields(to="", template="confirm")
    outbox_columns, outbox_values, outbox_params = _insert_parts(
        OutboundEmail,
        {"from_email": constant["from_email"], "subject": constant["subject"], "render_kind": "signature"},
        raw={
            "created_at": ("now()", []),
            "idempotency_key": ("'signature-confirm:' || s.id", []),
            "to": ("jsonb_build_array(s.email)", []),
            "headers": ("jsonb_build_object('Message-ID', s.message_id)", []),
            "message_id": ("s.message_id", []),
            "render_context": (
                "jsonb_build_object('signature_id', s.id, 'generation', 1, 'template', 'confirm', "
                "'signed_at', floor(extract(epoch FROM s.created_at))::bigint)",
                [],
            ),
        },
    )
    sql = _SIGN_MANY_SQL.format(
        signature=connection.ops.quote_name(Signature._meta.db_table),
        signature_columns=signature_columns,
        rows=", ".join(placeholders),
        outbox=connection.ops.quote_name(OutboundEmail._meta.db_table),
        outbox_columns=outbox_columns,
        outbox_values=outbox_values,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, settings.VIGIL_MAIL_DOMAIN, *outbox_params])
        return {(petition_id, canonical) for petition_id, canonical in cursor.fetchall()}


def signatures_write(*, rows: list[dict]) -> dict[str, int]:
    """Write prepared signatures (signature_prepare's rows, each stamped with when it was signed), as
    signature_create would have one by one: new people pending with a confirmation queued, people who have signed
    answered by the same rules. Call inside a transaction. Returns how many were created, and how many repeated."""
    firsts: dict[tuple[int, str], dict] = {}
    repeats: list[dict] = []
    for values in rows:
        key = (values["petition_id"], values["canonical_email"])
        if key in firsts:
            repeats.append(values)  # the same person twice in one batch: the first is inserted, this one repeats
        else:
            firsts[key] = values
    if connection.vendor == "postgresql":
        inserted = _signatures_insert_many(list(firsts.values()))
    else:
        inserted = set()
        for key, values in firsts.items():
            if _signature_insert_orm(values=values, now=values["created_at"]) is not None:
                inserted.add(key)
    repeats.extend(values for key, values in firsts.items() if key not in inserted)
    for values in repeats:
        details = SignerDetails(**{field: values[field] for field in SignerDetails.__dataclass_fields__})
        _signature_settle(values=values, details=details, signed_before=True)
    if inserted:
        outbound_email_pump_soon()
    return {"created": len(inserted), "repeated": len(repeats)}


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
            .filter(petition_id=petition.pk, canonical_email=canonical, state=SignatureState.PENDING)
            .first()
        )
        if row is None or (row.notified_at and row.notified_at > now - interval):
            return
        row.mail_count += 1
        row.notified_at = now
        row.save(update_fields=["mail_count", "notified_at"])
        _mail_queue(
            signature=row, template="reminder", idempotency_key=f"signature-note:{row.pk}:{row.mail_count}", now=now
        )


_CONFIRM_WITH_EVENT_SQL = """
WITH confirmed AS (
    UPDATE {signature} SET state = CASE WHEN marked THEN %(held)s ELSE %(confirmed)s END, confirmed_at = %(now)s
    WHERE id = %(id)s AND generation = %(generation)s AND state = %(pending)s
    RETURNING id, petition_id, state
),
event AS (
    INSERT INTO {event} (kind, public_id, petition_id, subject_id, data, created_at)
    SELECT %(kind)s, gen_random_uuid(), petition_id, id, '{{}}', %(now)s FROM confirmed WHERE state = %(confirmed)s
)
SELECT count(*) FROM confirmed
"""


# Confirming a signature a rule marked holds it for review instead: the signer is told the same either way.
_CONFIRMED_STATE = models.Case(
    models.When(marked=True, then=models.Value(SignatureState.HELD.value)),
    default=models.Value(SignatureState.CONFIRMED.value),
)


def _confirm_with_event(*, signature: Signature, now: datetime) -> int:
    """Confirm and write the signature.confirmed event (core.Event) together: one statement on PostgreSQL, one
    transaction elsewhere. Returns the rows confirmed (0 if a concurrent click or a withdrawal came first)."""
    if connection.vendor == "postgresql":
        sql = _CONFIRM_WITH_EVENT_SQL.format(
            signature=connection.ops.quote_name(Signature._meta.db_table),
            event=connection.ops.quote_name(Event._meta.db_table),
        )
        params = {
            "id": signature.pk, "generation": signature.generation, "now": now, "kind": EventKind.SIGNATURE_CONFIRMED,
            "confirmed": SignatureState.CONFIRMED, "pending": SignatureState.PENDING, "held": SignatureState.HELD,
        }  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            updated = cursor.fetchone()[0]
        if updated:
            events_handle_soon()
        return updated
    with transaction.atomic():
        updated = Signature.objects.filter(
            pk=signature.pk, generation=signature.generation, state=SignatureState.PENDING
        ).update(state=_CONFIRMED_STATE, confirmed_at=now)
        if updated and not signature.marked:
            event_record(
                kind=EventKind.SIGNATURE_CONFIRMED, petition=signature.petition, subject_id=signature.pk, now=now
            )
    return updated


def signature_confirm(*, token: str, now: datetime | None = None) -> tuple[Signature, bool]:
    """Confirm the signature a link is for. Returns (signature, True) the first time, (signature, False) after.

    Raises TokenInvalid, TokenExpired, TokenStale, or SignatureError when the petition no longer takes confirmations.
    """
    now = now or timezone.now()
    signature = signature_for_confirm_token(token=token)
    if signature.state in (SignatureState.CONFIRMED, SignatureState.HELD):
        return signature, False
    if signature.state != SignatureState.PENDING:
        raise TokenStale("This signature was withdrawn or set aside, so the link no longer confirms it.")
    if not signature.petition.accepts_confirmations():
        raise SignatureError("This petition has been delivered or archived: it no longer takes signatures.")
    # One statement in autocommit (no BEGIN and COMMIT around it: every signer of a surge comes through here);
    # outside a transaction, counts_flush_soon's on-commit hook runs at once, after the update.
    if signature.petition.sends_events:
        updated = _confirm_with_event(signature=signature, now=now)
    else:
        updated = Signature.objects.filter(
            pk=signature.pk, generation=signature.generation, state=SignatureState.PENDING
        ).update(state=_CONFIRMED_STATE, confirmed_at=now)
    counts_flush_soon()
    if updated:
        if signature.reminded_at is not None:  # a reminder not sent yet would ask them to do what they just did
            OutboundEmail.objects.filter(
                idempotency_key=signature_reminder_key(signature_id=signature.pk, generation=signature.generation),
                sent_at__isnull=True,
                failed_at__isnull=True,
            ).update(failed_at=now, last_error="Not sent: the signature was confirmed first.")
        signature.state = SignatureState.HELD if signature.marked else SignatureState.CONFIRMED
        signature.confirmed_at = now
        return signature, True
    signature.refresh_from_db(fields=["state", "confirmed_at", "generation"])  # a concurrent click, or a withdrawal
    if signature.state in (SignatureState.CONFIRMED, SignatureState.HELD):
        return signature, False
    raise TokenStale("This signature was withdrawn or set aside, so the link no longer confirms it.")


def signature_withdraw(*, token: str, now: datetime | None = None) -> tuple[Signature, bool]:
    """Withdraw a signature: out of counts and exports; the name, town and postal code are erased, and so are the
    e-mails written to the signer (the outbox keeps no address or body of them).

    The canonical e-mail stays, so that signing again is recognised (and confirmed again).
    Returns (signature, True) the first time, (signature, False) if it was already withdrawn.
    """
    now = now or timezone.now()
    signature = signature_for_withdraw_token(token=token)
    with transaction.atomic():
        updated = Signature.objects.filter(
            pk=signature.pk,
            generation=signature.generation,
            state__in=[SignatureState.PENDING, SignatureState.CONFIRMED, SignatureState.HELD],
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
        if updated:
            outbound_email_scrub_for(key="signature_id", values=[signature.pk], now=now)
            if signature.state == SignatureState.CONFIRMED:  # a pending or held one was never announced
                event_record(
                    kind=EventKind.SIGNATURE_WITHDRAWN, petition=signature.petition, subject_id=signature.pk, now=now
                )
        counts_flush_soon()
    signature.refresh_from_db()
    if not updated and signature.state != SignatureState.WITHDRAWN:
        raise TokenStale("This signature was set aside by the organisers and is not counted.")
    return signature, bool(updated)
