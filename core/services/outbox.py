"""Delivering the e-mail outbox.

Two ways deliver a row, and they never both send it:
- `outbound_email_send` (a Celery task per message, queued on commit): locks the row (FOR UPDATE SKIP LOCKED),
  sends, stamps `sent_at`, commits. A row the pump has claimed (`claimed_until` in the future) is left alone.
- `outbound_email_pump` (beat, every second; for mail written in bulk): claims a batch of unsent, unclaimed,
  unlocked rows in one statement (`UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)`, committed
  at once: a lease), then sends them one by one through one open connection, stamping each row as soon as it is
  sent. Concurrent pumps get disjoint batches. A pump stops sending at half its claim's time and releases what it
  did not send, as it does when an error interrupts it; one killed outright leaves at most the message it was
  sending unstamped, and its other claims expire after VIGIL_OUTBOX_CLAIM_SECONDS (10 s) for the next pump. Each
  message sent is marked in the cache before it is stamped: one whose stamp was lost (the database went away, or
  crashed before the stamp reached its disk) is stamped by the next pump, not sent again.
Why a lease and not one transaction holding the batch's row locks: a transaction can only commit all its stamps
at the end, so a worker dying mid-batch would resend every message it had already sent.
The pump's own commits (claims, stamps) do not wait for the disk: each statement carries its own
`SET LOCAL synchronous_commit TO off` (one query string, so one transaction; nothing outlives it, which a connection
pooler in transaction mode needs). Each is visible at once and durable within a fraction of a second; a stamp lost
to a crash of PostgreSQL in that fraction is covered by the message's mark in the cache (above). Waiting for the
disk on every stamp made a surge's confirmations leave at the disk's pace, not the mail server's (one flush per
message).
"""

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import get_connection
from django.db import connection, connections, transaction
from django.utils import timezone

from core.db import without_disk_wait
from core.jobs import machine_busy, tasks_waiting
from core.mail import MailWithheld, delivery_message, outbound_email_render_many
from core.models import OutboundEmail
from core.redact import redact

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message could not be handed to the mail server this time."""


def outbound_email_send(*, email_id: int, now: datetime | None = None) -> OutboundEmail | None:
    """Deliver one outbox message once.

    Safe to call twice or concurrently: the row is locked while it is delivered, and a sent or abandoned message is
    left alone. A failed attempt is recorded on the row and raised as DeliveryError so the task can retry; after
    VIGIL_OUTBOX_MAX_ATTEMPTS the message is marked failed, where the admin shows it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        row = OutboundEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id).first()
        if row is None or row.sent_at or row.failed_at:
            return row
        if row.claimed_until and row.claimed_until > now:
            return row  # the pump is delivering it
        row.attempts += 1
        row.last_attempt_at = now
        try:
            delivery_message(row).send()
        except MailWithheld as exc:
            _withhold(row=row, reason=str(exc), now=now)
            return row
        except Exception as exc:  # any transport failure: record it where a person will see it
            failure = exc
            row.last_error = redact(f"{type(exc).__name__}: {exc}")[:2000]  # a refusal names the recipient
            if row.attempts >= settings.VIGIL_OUTBOX_MAX_ATTEMPTS:
                row.failed_at = now
                logger.error("Giving up on e-mail %s after %s attempts: %s", row.pk, row.attempts, row.last_error)
        else:
            failure = None
            row.sent_at = now
            row.last_error = ""
        row.save(update_fields=["attempts", "last_attempt_at", "last_error", "sent_at", "failed_at"])
    if failure is not None and row.failed_at is None:
        raise DeliveryError(row.last_error) from failure
    return row


def outbound_email_sweep(*, now: datetime | None = None) -> list[int]:
    """Ids of unsent messages old enough that their first delivery was lost (a dead worker, a broker outage)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.VIGIL_OUTBOX_RESEND_AFTER_SECONDS)
    return list(
        OutboundEmail.objects.unsent()
        .filter(created_at__lt=cutoff, mailing="")  # a mailing's messages wait their turn with the pump
        .exclude(last_attempt_at__gte=cutoff)
        .exclude(claimed_until__gt=now)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


_CLAIM_SQL = """
UPDATE core_outboundemail SET claimed_until = %(until)s
WHERE id IN (
    SELECT id FROM core_outboundemail
    WHERE sent_at IS NULL AND failed_at IS NULL AND render_kind <> '' AND {which}
      AND (claimed_until IS NULL OR claimed_until < %(now)s)
      AND (last_attempt_at IS NULL
           OR last_attempt_at < %(now)s - make_interval(secs => LEAST(30 * power(2, attempts - 1), 1800)))
    ORDER BY {order}
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""
# One-to-one mail first, oldest first; then bulk mailings, one mailing after another (each in its own order).
_CLAIM_ONE_TO_ONE = _CLAIM_SQL.format(which="mailing = ''", order="created_at")
_CLAIM_BULK = _CLAIM_SQL.format(which="mailing <> ''", order="mailing, created_at")


def _outbox_claim(*, now: datetime, batch: int, bulk: bool = False) -> list[int]:
    """Lease up to `batch` deliverable rows to this pump (committed at once): one-to-one mail, or with `bulk` the
    messages of bulk mailings. A row whose last attempt failed waits 30 s, 60 s, 120 s ... (at most 30 min) before
    it is claimed again, like the task's own retries."""
    until = now + timedelta(seconds=settings.VIGIL_OUTBOX_CLAIM_SECONDS)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            sql = _CLAIM_BULK if bulk else _CLAIM_ONE_TO_ONE
            cursor.execute(without_disk_wait(sql), {"now": now, "until": until, "batch": batch})
            return sorted(pk for (pk,) in cursor.fetchall())
    with transaction.atomic():  # the embedded SQLite default: one process, so no one to race with
        unsent = OutboundEmail.objects.unsent().exclude(render_kind="").exclude(claimed_until__gt=now)
        if bulk:
            unsent = unsent.exclude(mailing="").order_by("mailing", "created_at")
        else:
            unsent = unsent.filter(mailing="").order_by("created_at")
        ids = list(unsent.values_list("pk", flat=True)[:batch])
        OutboundEmail.objects.filter(pk__in=ids).update(claimed_until=until)
    return sorted(ids)


def outbound_email_pump(*, batch: int | None = None, max_seconds: float | None = None) -> int:
    """Deliver the unsent rows written for the pump (those with a `render_kind`) in claimed batches, until none is
    left or `max_seconds` have passed. Other mail keeps its task per message (and the sweep), as before.

    Returns the number sent. Safe to run concurrently (disjoint claims) and twice (a sent row is never claimed).
    A failed attempt is recorded on its row and retried by a later run after a back-off; after
    VIGIL_OUTBOX_MAX_ATTEMPTS the row is marked failed, where the admin shows it.
    """
    batch = batch or settings.VIGIL_OUTBOX_PUMP_BATCH
    max_seconds = settings.VIGIL_OUTBOX_PUMP_MAX_SECONDS if max_seconds is None else max_seconds
    return _pump(batch=batch, max_seconds=max_seconds)


# Bulk mailings are sent after one-to-one mail, by one pump at a time (the turn below: the others, started by beat
# each second, take one-to-one mail only, so a mailing to 150,000 signers holds one worker process, never all of
# them), and from a thread of that pump running at a lower CPU priority (VIGIL_OUTBOX_BULK_NICE): a mailing uses
# the machine's spare time and gives way to pages, signing and confirmations when they need it. The turn lasts one
# run; one held by a pump that was killed expires. The bulk run also stops whenever tasks wait for a worker process
# (core.jobs.tasks_waiting): a mailing never keeps a surge's signatures waiting to be written.
_BULK_TURN = "outbox:bulk-turn"


def _bulk_turn_take(*, seconds: float) -> str | None:
    token = uuid.uuid4().hex
    try:
        return token if cache.add(_BULK_TURN, token, timeout=max(1, int(seconds))) else None
    except Exception:  # without the cache, every pump may send bulk mail: slower for others, never lost
        return token


def _bulk_turn_give(token: str | None) -> None:
    if token is None:
        return
    try:
        if cache.get(_BULK_TURN) == token:
            cache.delete(_BULK_TURN)
    except Exception:
        logger.warning("Could not give back the bulk mail turn; it expires on its own", exc_info=True)


def _pump(*, batch: int, max_seconds: float) -> int:
    sent = _pump_run(batch=batch, max_seconds=max_seconds, bulk=False)
    turn = _bulk_turn_take(seconds=max_seconds + settings.VIGIL_OUTBOX_CLAIM_SECONDS)
    if turn is None:
        return sent
    try:
        return sent + _at_low_priority(lambda: _pump_run(batch=batch, max_seconds=max_seconds, bulk=True))
    finally:
        _bulk_turn_give(turn)


def _bulk_wait_for_idle(*, until: datetime) -> bool:
    """Pause a bulk run while the machine's CPUs are busier than VIGIL_OUTBOX_BULK_MIN_IDLE_PERCENT allows (a
    surge's pages and signing come first). True once it is quiet enough to go on; False if it was not by `until`."""
    min_idle = settings.VIGIL_OUTBOX_BULK_MIN_IDLE_PERCENT / 100
    while min_idle and machine_busy(min_idle=min_idle):
        if timezone.now() + timedelta(seconds=0.25) > until:
            return False
        time.sleep(0.25)
    return True


def _at_low_priority(run: Callable[[], int]) -> int:
    """run() in a thread of its own whose nice value is raised to VIGIL_OUTBOX_BULK_NICE (Linux sets a thread's
    nice value on its own), with its own database connection, closed when it ends. In the calling thread instead
    when the setting is 0, and on the embedded SQLite default (one process, one writer)."""
    nice = settings.VIGIL_OUTBOX_BULK_NICE
    if not nice or connection.vendor != "postgresql":
        return run()
    outcome: dict = {}

    def body() -> None:
        try:
            thread = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, thread, max(os.getpriority(os.PRIO_PROCESS, thread), nice))
        except (OSError, AttributeError):  # not Linux, or not allowed: sent at the usual priority
            logger.debug("Could not lower the bulk mail thread's priority", exc_info=True)
        try:
            outcome["sent"] = run()
        except BaseException as exc:  # handed to the calling thread, which raises it
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=body, name="outbox-bulk", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["sent"]


def _pump_run(*, batch: int, max_seconds: float, bulk: bool) -> int:
    started = timezone.now()
    sent = 0
    while True:
        now = timezone.now()
        ids = _outbox_claim(now=now, batch=batch, bulk=bulk)
        if not ids:
            return sent
        rows = list(OutboundEmail.objects.filter(pk__in=ids).order_by("created_at", "pk"))
        outbound_email_render_many(rows)
        transport = get_connection(settings.VIGIL_EMAIL_DELIVERY_BACKEND)
        try:
            transport.open()
        except Exception as exc:  # the mail server is unreachable: every claimed row records this attempt
            for row in rows:
                _pump_failed(row=row, exc=exc, now=timezone.now())
            return sent
        # Stop sending well before the claims run out, so that no other pump ever takes a row this one may still
        # send; what is left is released at once, as it is when this run is interrupted by an error.
        send_until = now + timedelta(seconds=settings.VIGIL_OUTBOX_CLAIM_SECONDS / 2)
        pending = {row.pk for row in rows}
        remembered = _sent_remembered(pending)
        # A bulk mailing's stamps are written together, every STAMP_BATCH messages and at the end (each message is
        # remembered in the cache before it is counted here, as every message is: a pump killed before the stamps
        # leaves them to the next one, which stamps instead of sending).
        unstamped: list[OutboundEmail] | None = [] if bulk else None
        yielded = False
        try:
            for row in rows:
                if timezone.now() > send_until:
                    break
                if row.pk in remembered:  # sent before the database went away: stamp it now, do not send again
                    _stamp_sent(row=row, now=timezone.now())
                    cache.delete(_sent_key(row.pk))
                else:
                    sent += _pump_one(row=row, transport=transport, unstamped=unstamped)
                    if unstamped is not None and len(unstamped) >= STAMP_BATCH:
                        _stamp_sent_many(unstamped)
                        # Every worker process is busy, or the machine is: give way to them.
                        yielded = bool(tasks_waiting()) or not _bulk_wait_for_idle(until=send_until)
                pending.discard(row.pk)
                if yielded:
                    break
        finally:
            if unstamped:
                _stamp_sent_many(unstamped)
            if pending:
                _outbox_release(pending)
            try:
                transport.close()
            except Exception:  # closing a broken SMTP connection may fail too; the stamps are what matter
                logger.warning("Closing the mail transport failed", exc_info=True)
        if yielded or pending or len(ids) < batch or (timezone.now() - started).total_seconds() > max_seconds:
            return sent


def _outbox_release(ids) -> None:
    """Give back claims this pump will not use (rows already sent or failed keep their stamps)."""
    try:
        OutboundEmail.objects.filter(pk__in=list(ids), sent_at__isnull=True).update(claimed_until=None)
    except Exception:  # the database went away mid-run: the claims expire on their own
        logger.warning("Could not release %d outbox claim(s); they expire on their own", len(ids), exc_info=True)


def _pump_failed(*, row: OutboundEmail, exc: Exception, now: datetime) -> None:
    """Record a failed attempt on a claimed row and release the claim (the back-off decides when it is tried again)."""
    attempts = row.attempts + 1
    update = {"attempts": attempts, "last_attempt_at": now, "claimed_until": None}
    error = update["last_error"] = redact(f"{type(exc).__name__}: {exc}")[:2000]  # a refusal names the recipient
    if attempts >= settings.VIGIL_OUTBOX_MAX_ATTEMPTS:
        update["failed_at"] = now
        logger.error("Giving up on e-mail %s after %s attempts: %s", row.pk, attempts, error)
    else:
        logger.warning("E-mail %s not delivered (attempt %s): %s", row.pk, attempts, error)
    OutboundEmail.objects.filter(pk=row.pk, sent_at__isnull=True).update(**update)


def _withhold(*, row: OutboundEmail, reason: str, now: datetime) -> None:
    """Finish a row that must not be sent (see MailWithheld): no retry, and nothing of it was handed over."""
    row.failed_at = row.withheld_at = now
    row.last_error = reason[:2000]
    OutboundEmail.objects.filter(pk=row.pk, sent_at__isnull=True).update(
        failed_at=now, withheld_at=now, last_error=row.last_error, attempts=row.attempts, last_attempt_at=now,
        claimed_until=None,
    )  # fmt: skip


def _pump_one(*, row: OutboundEmail, transport, unstamped: list | None = None) -> int:
    """Send one claimed row and stamp it at once (its own autocommit UPDATE), or add it to `unstamped` for a later
    stamp of many: 1 if sent, 0 if not."""
    now = timezone.now()
    try:
        delivery_message(row, connection=transport).send()
    except MailWithheld as exc:
        _withhold(row=row, reason=str(exc), now=now)
        return 0
    except Exception as exc:  # any rendering or transport failure: record it where a person will see it
        _pump_failed(row=row, exc=exc, now=now)
        try:  # a broken SMTP session would fail the rest of the batch too: start a fresh one
            transport.close()
            transport.open()
        except Exception:
            logger.warning("Reopening the mail transport failed", exc_info=True)
        return 0
    # Remembered before the stamp: the stamp may fail (the database went away) or, written without waiting for the
    # disk, be lost if PostgreSQL crashes in the next fraction of a second. Either way the next pump finds the mark
    # and stamps the row instead of sending it again.
    _sent_remember(row.pk)
    if unstamped is None:
        _stamp_sent(row=row, now=now)
    else:
        row.sent_at = now
        unstamped.append(row)
    return 1


STAMP_BATCH = 100


def _stamp_sent_many(rows: list[OutboundEmail]) -> None:
    """Stamp sent rows in one statement, and empty the list. A failure is logged: the rows are remembered in the
    cache, so the next pump stamps them instead of sending them again."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                without_disk_wait(_STAMP_MANY_SQL), [[row.pk for row in rows], [row.sent_at for row in rows]]
            )
    except Exception:
        logger.warning("Could not stamp %d sent e-mail(s); the next pump will", len(rows), exc_info=True)
    rows.clear()


def _stamp_sent(*, row: OutboundEmail, now: datetime) -> None:
    with connection.cursor() as cursor:  # one prepared statement: the ORM's update() would build it for every message
        cursor.execute(without_disk_wait(_STAMP_SQL), [row.attempts + 1, now, now, row.pk])


# Every message handed to the mail server is remembered in the cache for a day (one Redis write), so that a message
# whose stamp never reached the disk is stamped by the next pump, not sent again. With the cache down too, it would
# be sent again, with the same Message-ID (which mail servers and clients use to drop duplicates).
def _sent_key(pk: int) -> str:
    return f"outbox:sent:{pk}"


def _sent_remember(pk: int) -> None:
    try:
        cache.set(_sent_key(pk), 1, timeout=86400)
    except Exception:
        logger.warning("E-mail %s was sent but neither stamped nor remembered; it may be sent twice", pk, exc_info=True)


def _sent_remembered(ids) -> set[int]:
    try:
        found = cache.get_many([_sent_key(pk) for pk in ids])
    except Exception:
        return set()
    return {pk for pk in ids if _sent_key(pk) in found}


_STAMP_MANY_SQL = (
    f"UPDATE {OutboundEmail._meta.db_table} AS row SET attempts = row.attempts + 1, last_attempt_at = sent.at, "
    "claimed_until = NULL, sent_at = sent.at, last_error = '' "
    "FROM unnest(%s::bigint[], %s::timestamptz[]) AS sent(id, at) WHERE row.id = sent.id AND row.sent_at IS NULL"
)
_STAMP_SQL = (
    f"UPDATE {OutboundEmail._meta.db_table} SET attempts = %s, last_attempt_at = %s, claimed_until = NULL, "
    "sent_at = %s, last_error = '' WHERE id = %s AND sent_at IS NULL"
)
