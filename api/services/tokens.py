"""API tokens: made by a petition's owners (the token is shown once; only its SHA-256 digest is kept), revoked by
them, checked on every call, and every call logged without anything the caller sent."""

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from api.models import ApiCall, ApiToken
from core.db import without_disk_wait
from petitions.models import MembershipRole, Petition
from petitions.selectors import petition_member_allows
from signatures.ratelimits import redis_client

TOKEN_PREFIX = "vgl_"
EMAILS_PERMISSION = "deliverables.export_signer_emails"


class TokenRefused(PermissionError):
    """The person may not make or revoke this token; the message says why."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to its maker once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_owner(*, petition: Petition, user: User) -> None:
    if not petition_member_allows(petition_id=petition.pk, user=user, role=MembershipRole.OWNER):
        raise TokenRefused("Only the petition's owners manage its API tokens.")


def api_token_create(
    *, petition: Petition, by: User, name: str, can_write: bool = False, can_read_emails: bool = False
) -> NewToken:
    _require_owner(petition=petition, user=by)
    if can_read_emails and not by.has_perm(EMAILS_PERMISSION):
        raise TokenRefused("Only people allowed to export signers' e-mail addresses can give a token that right.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        petition=petition,
        name=name.strip()[:100],
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=_digest(secret),
        can_write=can_write,
        can_read_emails=can_read_emails,
        created_by=by,
    )
    return NewToken(token=token, secret=secret)


def api_token_revoke(*, token: ApiToken, by: User, now: datetime | None = None) -> ApiToken:
    _require_owner(petition=token.petition, user=by)
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now(),
                                                                              revoked_by=by)  # fmt: skip
    _known.pop(token.digest, None)
    token.refresh_from_db()
    return token


# Tokens this process has looked up, by digest, for VIGIL_API_TOKEN_CACHE_SECONDS: a tool calling many times a
# second costs one query per token and process in that time, not one per call. Revoking a token clears it here at
# once, and in other processes within that time.
_known: dict[str, tuple[float, ApiToken | None]] = {}


def api_token_for(secret: str) -> ApiToken | None:
    """The live token a caller sent, or None for an unknown or revoked one."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    digest = _digest(secret)
    now = time.monotonic()
    found = _known.get(digest)
    if found is not None and found[0] > now:
        return found[1]
    token = (
        ApiToken.objects.select_related("petition", "petition__tally")
        .filter(digest=digest, revoked_at__isnull=True)
        .first()
    )
    if len(_known) > 10_000:
        _known.clear()
    _known[digest] = (now + settings.VIGIL_API_TOKEN_CACHE_SECONDS, token)
    return token


# Without Redis (the embedded default) or while it fails: one statement in autocommit that does not wait for the
# disk, since a call's log line is worth less than the call.
_LOG_INSERT = (
    f"INSERT INTO {ApiCall._meta.db_table} (token_id, method, path, status, duration_ms, at) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
CALLS_BATCH = 5000
_DRAIN_LOCK_MS = 60_000


def _calls_key(name: str = "queue") -> str:
    return caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")].make_key(f"api:calls:{name}")


def api_call_log(*, token: ApiToken | None, method: str, path: str, status: int, duration_ms: int) -> None:
    """Log one call. With Redis, the line is appended to a list there (one round trip, no database write on the
    call's path: a tool recording signatures in a surge would otherwise add a row to every call) and
    `api_calls_drain` moves the list into the table every few seconds."""
    now = timezone.now()
    values = [token.pk if token else None, method[:7], path[:300], status, duration_ms]
    client = redis_client()
    try:
        if client is None:
            raise redis.RedisError("no Redis")
        client.rpush(_calls_key(), json.dumps([*values, now.timestamp()]))
    except redis.RedisError:
        with connection.cursor() as cursor:
            cursor.execute(without_disk_wait(_LOG_INSERT), [*values, now])
    if token is not None and (token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60):
        token.last_used_at = now  # at most once a minute per token and process
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def api_calls_drain(*, batch: int = CALLS_BATCH) -> int:
    """Move the calls logged in Redis into the table, oldest first. Returns the rows written.

    One drain at a time (a lock in Redis). Each batch is written, then trimmed from the list: a drain killed between
    the two writes that batch again when the next one runs (a log line twice, never one lost)."""
    client = redis_client()
    if client is None:
        return 0
    holder = secrets.token_hex(8)
    if not client.set(_calls_key("lock"), holder, nx=True, px=_DRAIN_LOCK_MS):
        return 0
    written = 0
    try:
        while True:
            entries = client.lrange(_calls_key(), 0, batch - 1)
            if not entries:
                break
            rows = []
            for entry in entries:
                token_id, method, path, status, duration_ms, at = json.loads(entry)
                rows.append(ApiCall(token_id=token_id, method=method, path=path, status=status,
                                    duration_ms=duration_ms, at=datetime.fromtimestamp(at, tz=UTC)))  # fmt: skip
            # A token deleted since (its petition removed) leaves its calls without one, as the foreign key does.
            known = set(
                ApiToken.objects.filter(pk__in={r.token_id for r in rows if r.token_id}).values_list("pk", flat=True)
            )
            for row in rows:
                if row.token_id not in known:
                    row.token_id = None
            ApiCall.objects.bulk_create(rows)
            client.ltrim(_calls_key(), len(entries), -1)
            written += len(rows)
            if len(entries) < batch:
                break
    finally:
        if client.get(_calls_key("lock")) == holder.encode():
            client.delete(_calls_key("lock"))
    return written


def api_calls_purge(*, now: datetime | None = None) -> int:
    """Remove logged calls older than VIGIL_API_CALL_LOG_DAYS. Returns the rows removed."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.VIGIL_API_CALL_LOG_DAYS)
    removed, _ = ApiCall.objects.filter(at__lt=cutoff).delete()
    return removed
