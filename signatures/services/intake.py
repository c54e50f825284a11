"""The signing intake: in a surge, the sign form hands each signature to Redis and a worker writes them in batches.

Why: written one by one, a signature costs the web process a PostgreSQL round trip and the database a statement
and a commit of its own, about half of what a signature costs the machine in a surge (bench/README.md, "What
durability costs"). Here the sign view checks everything it can answer (the form, the petition open, both rate
limits) and pushes the prepared row onto a Redis list in the same atomic call that counts its rate limits
(signatures.ratelimits, one round trip).
`signature_intake_drain` (a Celery task nudged by the web processes and run by beat every second) writes up to
VIGIL_SIGN_INTAKE_BATCH rows per statement with signing.signatures_write, which applies the same rules as
signature_create: the unique constraint decides who is new, a repeat gets the same notes.

What the signer sees does not change: "check your e-mail" whether the address is new or not. The confirmation goes
out once the batch is written, normally within a second or two.

Guarantees and limits
- A signature is removed from the list only after the transaction that wrote it committed, and only by the holder
  of the drain lock (checked in the same Lua call that trims). The lock names its holder (host:pid:random, shown by
  /healthz) and lives VIGIL_SIGN_INTAKE_LOCK_SECONDS, renewed before each batch: a drain killed mid-batch holds up the
  intake for at most that long, and its batch is written by the next drain.
- Each entry carries an id, recorded (IntakeReceipt) in the transaction that writes it: an entry read again (a drain
  killed between its commit and its trim, or two drains after a lock ran out) is skipped, never written twice, so a
  signer who confirmed and withdrew in between is not signed up again.
- A row that cannot be written (refused by the database, or an entry that is not a signature at all; it should not
  happen: the view checked it) is set aside as an IntakeFailure with its error (the admin lists them and retries
  them), so one bad row never blocks the others. Only a database that cannot be reached (or a deadlock or timeout)
  leaves the batch in the list for the next drain: signing goes on through a database outage, and the waiting
  signatures are written when it returns.
- Redis down: the rate limits fail open and nothing is queued, so the view writes the signature itself
  (signature_create). Signing keeps working.
- The list lives in the Redis of the rate limits (it must be, for the single round trip). That Redis must keep what
  it is given: no eviction and append-only persistence. The intake is used only when that Redis says it persists
  (signatures.durability); otherwise signatures are written in the request, as without Redis.
- The client's address is hashed before the row leaves the web process; the list holds what the row holds.
"""

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.jobs import enqueue
from signatures.models import IntakeFailure, IntakeReceipt
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
_RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
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
    """On when VIGIL_SIGN_INTAKE is, the rate limits' cache is Redis (not the embedded default's memory) and that
    Redis persists what it is given (see redis_persistence; VIGIL_SIGN_INTAKE_REQUIRE_PERSISTENCE)."""
    if not settings.VIGIL_SIGN_INTAKE:
        return False
    client = redis_client()
    if client is None:
        return False
    if not settings.VIGIL_SIGN_INTAKE_REQUIRE_PERSISTENCE:
        return True
    return redis_persistence(client).durable


def intake_startup_check() -> None:
    """Called as a web process starts: ask the intake's Redis whether it persists, so that a Redis without an
    append-only file is reported in the log (as an error) before the first signature, not at it. Never fails."""
    try:
        client = redis_client()
        if settings.VIGIL_SIGN_INTAKE and client is not None and settings.VIGIL_SIGN_INTAKE_REQUIRE_PERSISTENCE:
            found = redis_persistence(client, fresh=True)
            if found.durable:
                logger.info("The signing intake is on: its Redis persists (%s)", found.describe())
    except Exception:
        logger.warning("Could not ask Redis whether it persists; asked again at the first signature", exc_info=True)


@dataclass(frozen=True)
class Persistence:
    appendonly: bool | None  # None: Redis would not say
    appendfsync: str  # "always", "everysec", "no", or "" when unknown
    checked_at: float

    @property
    def durable(self) -> bool:
        """An acknowledged entry survives a kill of Redis: the append-only file on, written at least every second."""
        return bool(self.appendonly) and self.appendfsync in ("always", "everysec")

    def describe(self) -> str:
        if self.appendonly is None:
            return "unknown (Redis answered neither CONFIG GET nor INFO persistence)"
        if not self.appendonly:
            return "off (appendonly no)"
        return f"appendonly yes, appendfsync {self.appendfsync or 'unknown'}"


_persistence: dict[int, Persistence] = {}


def redis_persistence(client=None, *, fresh: bool = False) -> Persistence:
    """Whether the intake's Redis persists, asked at most every VIGIL_SIGN_INTAKE_PERSISTENCE_CHECK_SECONDS per
    process (CONFIG GET, else INFO persistence where CONFIG is disabled, as on some managed services). When it does
    not, the intake is off and signatures are written in the request: logged as an error when that changes."""
    client = client or redis_client()
    now = time.monotonic()
    known = _persistence.get(id(client))
    if (
        known is not None
        and not fresh
        and now - known.checked_at < settings.VIGIL_SIGN_INTAKE_PERSISTENCE_CHECK_SECONDS
    ):
        return known
    found = Persistence(appendonly=None, appendfsync="", checked_at=now)
    try:
        config = client.config_get("append*")
        found = Persistence(
            appendonly=config.get("appendonly") == "yes", appendfsync=config.get("appendfsync", ""), checked_at=now
        )
    except redis.ResponseError:  # CONFIG renamed or refused: INFO says whether the AOF is on, not its fsync policy
        try:
            info = client.info("persistence")
            found = Persistence(appendonly=bool(info.get("aof_enabled")), appendfsync="everysec", checked_at=now)
        except redis.RedisError:
            pass
    except redis.RedisError:  # Redis is down: keep what it said last (the rate limits fail open anyway)
        return known or found
    if (known is None or known.durable) and not found.durable and settings.VIGIL_SIGN_INTAKE_REQUIRE_PERSISTENCE:
        logger.error("The signing intake is OFF: its Redis does not persist (%s), so a Redis restart would lose "
                     "acknowledged signatures; each signature is written in its request instead. Turn on "
                     "appendonly with appendfsync always or everysec.", found.describe())  # fmt: skip
    elif known is not None and not known.durable and found.durable:
        logger.warning("The signing intake is on again: its Redis persists (%s)", found.describe())
    _persistence[id(client)] = found
    return found


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
    values["entry_id"] = uuid.uuid4().hex
    return intake_key(), json.dumps(values, separators=(",", ":"))


def _row(entry: bytes) -> tuple[uuid.UUID | None, dict]:
    """An entry's id (None for an entry queued without one) and the row signatures_write takes."""
    values = json.loads(entry)
    entry_id = values.pop("entry_id", None)
    signed_at = datetime.fromtimestamp(values.pop("signed_at"), tz=UTC)
    values["created_at"] = values["notified_at"] = signed_at
    return (uuid.UUID(entry_id) if entry_id is not None else None), values


def signature_intake_drain_soon() -> None:
    """Have the intake written soon: a task at most once per VIGIL_SIGN_INTAKE_NUDGE_SECONDS per process (beat runs
    the drain every second anyway). A broker that is down is logged; the entries wait for the next drain."""
    global _nudged_at
    now = time.monotonic()
    if now - _nudged_at < settings.VIGIL_SIGN_INTAKE_NUDGE_SECONDS:
        return
    _nudged_at = now
    enqueue("signatures.tasks.signature_intake_drain_task")


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

_RECEIPT_SQL = """
INSERT INTO {table} (entry_id, written_at) SELECT id, now() FROM unnest(%s::uuid[]) AS id
ON CONFLICT (entry_id) DO NOTHING RETURNING entry_id
"""


def _receipts_record(entry_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Record these entries as written, in the caller's transaction; returns those not recorded before. A second
    drain writing the same entry waits on the first one's commit here, then finds it recorded."""
    if not entry_ids:
        return set()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_RECEIPT_SQL.format(table=IntakeReceipt._meta.db_table), [[str(i) for i in entry_ids]])
            return {uuid.UUID(str(entry_id)) for (entry_id,) in cursor.fetchall()}
    seen = set(IntakeReceipt.objects.filter(entry_id__in=entry_ids).values_list("entry_id", flat=True))
    fresh = [entry_id for entry_id in dict.fromkeys(entry_ids) if entry_id not in seen]
    IntakeReceipt.objects.bulk_create([IntakeReceipt(entry_id=entry_id) for entry_id in fresh])
    return set(fresh)


def _write_new(items: list[tuple[uuid.UUID | None, dict]]) -> None:
    """Write the entries not written before (one transaction: the caller's). An entry without an id (queued by an
    earlier release) is written as before; writing it twice is harmless unless its signer withdrew in between."""
    fresh = _receipts_record([entry_id for entry_id, _row in items if entry_id is not None])
    signatures_write(rows=[row for entry_id, row in items if entry_id is None or entry_id in fresh])


def _write(entries: list[bytes]) -> None:
    """Write one batch in one transaction. If the batch fails for a reason of its rows (a constraint, a value, an
    entry that reads as JSON but is not a signature: none should get past the view's checks), write it row by row
    and set aside the rows that fail, so that one bad entry never holds up the others. A database that cannot be
    reached raises: the batch stays in the list for the next drain."""
    parsed, bad = [], []
    for entry in entries:
        try:
            parsed.append((entry, *_row(entry)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            bad.append((entry, f"Not a signature entry ({type(exc).__name__}: {exc})"))
    try:
        with transaction.atomic():
            _write_new([(entry_id, row) for _entry, entry_id, row in parsed])
    except _TRANSIENT:
        raise
    except Exception:
        logger.exception("The signing intake's batch of %d was refused; writing its rows one by one", len(parsed))
        for entry, entry_id, row in parsed:
            try:
                with transaction.atomic():
                    _write_new([(entry_id, row)])
            except _TRANSIENT:
                raise
            except Exception as exc:
                bad.append((entry, f"{type(exc).__name__}: {exc}"))
    if bad:
        _set_aside(bad)


def _petition_hint(entry: bytes) -> int | None:
    try:
        value = json.loads(entry).get("petition_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _set_aside(bad: list[tuple[bytes, str]]) -> None:
    IntakeFailure.objects.bulk_create(
        IntakeFailure(
            entry=entry.decode("utf-8", "replace"), error=error[:2000], petition_id_hint=_petition_hint(entry)
        )
        for entry, error in bad
    )
    for _entry, error in bad:
        logger.error("A signature of the intake was set aside (see Intake failures in the admin): %s", error[:300])


def signature_intake_failures_retry(*, failures) -> tuple[int, int]:
    """Write set-aside entries again (after the cause was fixed). Returns (written, still failing); an entry that
    was written in the meantime is not written twice. Each failure that is written leaves the list."""
    written = failing = 0
    for failure in failures:
        try:
            with transaction.atomic():
                entry_id, row = _row(failure.entry.encode())
                _write_new([(entry_id, row)])
                IntakeFailure.objects.filter(pk=failure.pk).delete()
            written += 1
        except _TRANSIENT:
            raise
        except Exception as exc:
            IntakeFailure.objects.filter(pk=failure.pk).update(
                error=f"{type(exc).__name__}: {exc}"[:2000], attempts=F("attempts") + 1, failed_at=timezone.now()
            )
            failing += 1
    return written, failing


def signature_intake_records_purge(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete receipts older than VIGIL_SIGN_INTAKE_RECEIPT_HOURS and set-aside entries older than
    VIGIL_SIGNATURE_PENDING_PURGE_DAYS (they hold what an unconfirmed signature holds). Returns both counts."""
    now = now or timezone.now()
    receipts = IntakeReceipt.objects.filter(
        written_at__lt=now - timedelta(hours=settings.VIGIL_SIGN_INTAKE_RECEIPT_HOURS)
    ).delete()[0]
    failures = IntakeFailure.objects.filter(
        failed_at__lt=now - timedelta(days=settings.VIGIL_SIGNATURE_PENDING_PURGE_DAYS)
    ).delete()[0]
    return receipts, failures


def _lock_token() -> str:
    """Who holds the drain lock, as /healthz shows it: host, process, and a random part that fences this run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def signature_intake_lock_holder() -> tuple[str, float] | None:
    """(holder, seconds left) of the drain lock, or None when no drain runs (or Redis does not answer)."""
    client = redis_client()
    if client is None:
        return None
    try:
        with client.pipeline() as pipe:
            holder, ttl = pipe.get(_key("lock")).pttl(_key("lock")).execute()
    except redis.RedisError:
        return None
    if holder is None:
        return None
    return holder.decode(errors="replace"), max(ttl, 0) / 1000


def signature_intake_oldest_age(*, now: float | None = None) -> float | None:
    """Seconds the oldest waiting signature has waited (None when the intake is empty or unreadable)."""
    client = redis_client()
    if client is None:
        return None
    try:
        head = client.lindex(intake_key(), 0)
        if head is None:
            return None
        return max(0.0, (now or time.time()) - float(json.loads(head)["signed_at"]))
    except (redis.RedisError, ValueError, KeyError, TypeError, AttributeError):
        return None


def signature_intake_drain(*, batch_size: int | None = None, max_seconds: float | None = None) -> int:
    """Write what waits in the intake, a batch at a time, until it is empty or `max_seconds` have passed.
    One drain at a time (a Redis lock); returns how many entries were handled (0 if another drain holds the lock)."""
    client = redis_client()
    if client is None:
        return 0
    batch_size = batch_size or settings.VIGIL_SIGN_INTAKE_BATCH
    max_seconds = settings.VIGIL_SIGN_INTAKE_DRAIN_MAX_SECONDS if max_seconds is None else max_seconds
    lock_ms = settings.VIGIL_SIGN_INTAKE_LOCK_SECONDS * 1000
    queue, lock, token = intake_key(), _key("lock"), _lock_token()
    if not client.set(lock, token, nx=True, px=lock_ms):
        return 0
    trim = client.register_script(_TRIM_SCRIPT)
    renew = client.register_script(_RENEW_SCRIPT)
    handled = 0
    deadline = time.monotonic() + max_seconds
    try:
        while time.monotonic() < deadline:
            if not renew(keys=[lock], args=[token, lock_ms]):
                logger.warning("The signing intake's lock ran out between batches; leaving the list to the next drain")
                return handled
            entries = client.lrange(queue, 0, batch_size - 1)
            if not entries:
                break
            _write(entries)
            if not trim(keys=[queue, lock], args=[token, len(entries), lock_ms]):
                # The lock ran out while this batch was written (the database stalled): another drain may be writing
                # the same entries, which their receipts make harmless; trimming now could drop rows it has not
                # written.
                logger.warning("The signing intake's lock expired during a batch; leaving the list to the next drain")
                return handled
            handled += len(entries)
    finally:
        client.eval(_RELEASE_SCRIPT, 1, lock, token)
    return handled
