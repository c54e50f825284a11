"""The signing intake: in a surge, the sign form hands each signature to Redis and a worker writes them in batches.

Why: written one by one, a signature costs the web process a PostgreSQL round trip and the database a statement
and a commit of its own; measured under 64 clients, that was half of what a signature cost the machine. Here the
sign view checks everything it can answer (the form, the petition open, both rate limits) and pushes the prepared
row onto a Redis list in the same atomic call that counts its rate limits (signatures.ratelimits, one round trip).
`signature_intake_drain` (a Celery task nudged by the web processes and run by beat every second) writes up to
VIGIL_SIGN_INTAKE_BATCH rows per statement with signing.signatures_write, which applies the same rules as
signature_create: the unique constraint decides who is new, a repeat gets the same notes.

What the signer sees does not change: "check your e-mail" whether the address is new or not. The confirmation goes
out once the batch is written, normally within a second or two.

Guarantees and limits
- A signature is removed from the list only after the transaction that wrote it committed, and only by the holder
  of the drain lock (checked in the same Lua call that trims): a worker that dies mid-batch leaves the batch for the
  next drain. Writing a batch twice is harmless: the second time every row is a repeat signed at the same moment,
  so nothing is sent again.
- A row that cannot be written (refused by the database, or an entry that is not a signature at all; it should not
  happen: the view checked it) is set aside on a "failed" list kept for VIGIL_SIGNATURE_PENDING_PURGE_DAYS and
  logged as an error, so one bad row never blocks the others. Only a database that cannot be reached (or a deadlock
  or timeout) leaves the batch in the list for the next drain.
- Redis down: the rate limits fail open and nothing is queued, so the view writes the signature itself
  (signature_create). Signing keeps working.
- The list lives in the Redis of the rate limits (it must be, for the single round trip). That Redis must keep what
  it is given: no eviction policy (Redis's default, noeviction) and, in production, append-only persistence, or a
  Redis restart loses the signatures still waiting (at most a second or two of a surge).
- The client's address is hashed before the row leaves the web process; the list holds what the row holds.
"""

import json
import logging
import time
import uuid
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from signatures.ratelimits import redis_client
from signatures.services.signing import SignatureOrigin, SignerDetails, signature_prepare, signatures_write

logger = logging.getLogger(__name__)

# Removes the first N entries only if the caller still holds the lock.
_TRIM_SCRIPT = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
    redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
    redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
    return 1
end
return 0
"""
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_nudged_at = float("-inf")


def _key(name: str) -> str:
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    return caches[alias].make_key(f"signatures:intake:{name}")


def intake_key() -> str:
    return _key("queue")


def intake_enabled() -> bool:
    """On when VIGIL_SIGN_INTAKE is and the rate limits' cache is Redis (not the embedded default's memory)."""
    return settings.VIGIL_SIGN_INTAKE and redis_client() is not None


def signature_intake_entry(
    *,
    petition,
    details: SignerDetails,
    origin: SignatureOrigin,
    canonical: str | None = None,
    now: datetime | None = None,
) -> tuple[str, str]:
    """The list key and the JSON entry of one signature, checked as signature_create checks it.
    Raises PetitionNotOpen, InvalidEmail or SignatureError."""
    now = now or timezone.now()
    values = signature_prepare(petition=petition, details=details, origin=origin, now=now, canonical=canonical)
    del values["created_at"], values["notified_at"]
    values["signed_at"] = now.timestamp()
    return intake_key(), json.dumps(values, separators=(",", ":"))


def _row(entry: bytes) -> dict:
    values = json.loads(entry)
    signed_at = datetime.fromtimestamp(values.pop("signed_at"), tz=UTC)
    values["created_at"] = values["notified_at"] = signed_at
    return values


def signature_intake_drain_soon() -> None:
    """Have the intake written soon: a task at most once per VIGIL_SIGN_INTAKE_NUDGE_SECONDS per process (beat runs
    the drain every second anyway). A broker that is down is logged; the entries wait for the next drain."""
    global _nudged_at
    from signatures.tasks import signature_intake_drain_task

    now = time.monotonic()
    if now - _nudged_at < settings.VIGIL_SIGN_INTAKE_NUDGE_SECONDS:
        return
    _nudged_at = now
    try:
        signature_intake_drain_task.delay()
    except Exception:
        logger.warning("Could not queue the signing intake's drain; beat's next run writes the waiting signatures",
                       exc_info=True)  # fmt: skip


def signature_intake_backlog() -> int:
    """How many signatures wait in the intake, on all petitions (0 without Redis, or when Redis does not answer)."""
    client = redis_client()
    if client is None:
        return 0
    try:
        return client.llen(intake_key())
    except redis.RedisError:
        logger.warning("Could not read the signing intake's length", exc_info=True)
        return 0


# What says the database could not be reached (or could not finish now: a deadlock, a timeout): the batch stays in
# the list for the next drain. Any other error is about the rows themselves.
_TRANSIENT = (OperationalError, InterfaceError)


def _write(entries: list[bytes]) -> None:
    """Write one batch in one transaction. If the batch fails for a reason of its rows (a constraint, a value, an
    entry that reads as JSON but is not a signature: none should get past the view's checks), write it row by row
    and set aside the rows that fail, so that one bad entry never holds up the others. A database that cannot be
    reached raises: the batch stays in the list for the next drain."""
    parsed, bad = [], []
    for entry in entries:
        try:
            parsed.append((entry, _row(entry)))
        except (ValueError, KeyError, TypeError):
            logger.error("An entry of the signing intake could not be read")
            bad.append(entry)
    try:
        with transaction.atomic():
            signatures_write(rows=[row for _entry, row in parsed])
    except _TRANSIENT:
        raise
    except Exception:
        logger.exception("The signing intake's batch of %d was refused; writing its rows one by one", len(parsed))
        for entry, row in parsed:
            try:
                with transaction.atomic():
                    signatures_write(rows=[row])
            except _TRANSIENT:
                raise
            except Exception:
                logger.exception("An entry of the signing intake could not be written (petition %s)",
                                 row.get("petition_id"))  # fmt: skip
                bad.append(entry)
    if bad:
        _set_aside(bad)


def _set_aside(entries: list[bytes]) -> None:
    client = redis_client()
    failed = _key("failed")
    client.rpush(failed, *entries)
    client.expire(failed, settings.VIGIL_SIGNATURE_PENDING_PURGE_DAYS * 86400)
    logger.error("%d signature(s) set aside on the intake's failed list (%s)", len(entries), failed)


def signature_intake_drain(*, batch_size: int | None = None, max_seconds: float | None = None) -> int:
    """Write what waits in the intake, a batch at a time, until it is empty or `max_seconds` have passed.
    One drain at a time (a Redis lock); returns how many entries were handled (0 if another drain holds the lock)."""
    client = redis_client()
    if client is None:
        return 0
    batch_size = batch_size or settings.VIGIL_SIGN_INTAKE_BATCH
    max_seconds = settings.VIGIL_SIGN_INTAKE_DRAIN_MAX_SECONDS if max_seconds is None else max_seconds
    lock_ms = settings.VIGIL_SIGN_INTAKE_LOCK_SECONDS * 1000
    queue, lock, token = intake_key(), _key("lock"), uuid.uuid4().hex
    if not client.set(lock, token, nx=True, px=lock_ms):
        return 0
    trim = client.register_script(_TRIM_SCRIPT)
    handled = 0
    deadline = time.monotonic() + max_seconds
    try:
        while time.monotonic() < deadline:
            entries = client.lrange(queue, 0, batch_size - 1)
            if not entries:
                break
            _write(entries)
            if not trim(keys=[queue, lock], args=[token, len(entries), lock_ms]):
                # The lock ran out while this batch was written (the database stalled for minutes): another drain
                # may be writing the same rows, which is harmless; trimming now could drop rows it has not written.
                logger.warning("The signing intake's lock expired during a batch; leaving the list to the next drain")
                return handled
            handled += len(entries)
    finally:
        client.eval(_RELEASE_SCRIPT, 1, lock, token)
    return handled
