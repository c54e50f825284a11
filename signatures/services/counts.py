"""Counts that hold a surge.

The design: a confirmation (or withdrawal, or invalidation) writes only its own signature row. Each row carries a
`counted` flag saying whether the tallies include it. Every VIGIL_SIGNATURE_COUNT_FLUSH_SECONDS, the flush job
takes the rows whose flag disagrees with their state (two small partial indexes find them), flips the flag and adds
the +1/−1 per petition, per country and region and per hour into the three tally tables, all in one SQL statement
in one transaction. So:

- no hot row: thousands of confirmations a second touch thousands of different rows, and each tally row is written
  once per flush, not once per signature (the design that took down a well-known petitions site in 2019);
- exact: a row is counted once because flipping its flag and adding its delta commit together; a confirmation still
  in flight is locked and skipped (SKIP LOCKED) and taken by the next flush;
- no lost update if a worker dies mid-flush: the transaction rolls back and the next flush does it;
- behind by at most one flush interval (plus the queue's delay) under load; exact at rest.

`signature_counts_reconcile` recounts the rows a petition's tallies should include and rewrites any tally that
drifted (a restored backup, hand edits), recording each correction as a CountCorrection row.

Both take one PostgreSQL advisory lock, so flushes never overlap with each other or with a reconcile. On other
databases (the embedded SQLite default, one process) the same steps run through the ORM.
"""

import logging
from collections import Counter
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import TruncHour
from django.utils import timezone

from core.jobs import enqueue
from signatures.models import (
    CountCorrection,
    CountThreshold,
    HourTally,
    PetitionTally,
    RegionTally,
    Signature,
    SignatureState,
)

logger = logging.getLogger(__name__)

COUNTS_LOCK = 0x51_67_4E_43  # "SgNC": the advisory lock of the flush and reconcile jobs
FLUSH_BATCH = 20_000
FLUSHED_AT_KEY = "signatures:counts-flushed-at"

_FLUSH_SQL = """
WITH to_count AS (
    SELECT id FROM {sig} WHERE (NOT "counted" AND "state" = 'confirmed')
    ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
),
to_uncount AS (
    SELECT id FROM {sig} WHERE (NOT ("state" = 'confirmed') AND "counted")
    ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
),
changed AS (
    UPDATE {sig} AS s SET counted = NOT s.counted
    WHERE s.id IN (SELECT id FROM to_count UNION ALL SELECT id FROM to_uncount)
    RETURNING s.petition_id, s.country, s.region, date_trunc('hour', s.confirmed_at) AS hour,
              CASE WHEN s.counted THEN 1 ELSE -1 END AS delta
),
totals AS (
    INSERT INTO {total} (petition_id, confirmed, updated_at)
    SELECT petition_id, SUM(delta), %(now)s FROM changed GROUP BY petition_id
    ON CONFLICT (petition_id)
    DO UPDATE SET confirmed = {total}.confirmed + EXCLUDED.confirmed, updated_at = EXCLUDED.updated_at
),
regions AS (
    INSERT INTO {region} (petition_id, country, region, confirmed)
    SELECT petition_id, country, region, SUM(delta) FROM changed GROUP BY petition_id, country, region
    ON CONFLICT (petition_id, country, region) DO UPDATE SET confirmed = {region}.confirmed + EXCLUDED.confirmed
),
hours AS (
    INSERT INTO {hour} (petition_id, hour, confirmed)
    SELECT petition_id, hour, SUM(delta) FROM changed GROUP BY petition_id, hour
    ON CONFLICT (petition_id, hour) DO UPDATE SET confirmed = {hour}.confirmed + EXCLUDED.confirmed
)
SELECT count(*) FROM changed
"""


def _sql(template: str) -> str:
    return template.format(
        sig=Signature._meta.db_table,
        total=PetitionTally._meta.db_table,
        region=RegionTally._meta.db_table,
        hour=HourTally._meta.db_table,
    )


_CROSS_SQL = """
UPDATE {threshold} AS t SET crossed_at = %(now)s
FROM {total} AS p
WHERE t.crossed_at IS NULL AND t.petition_id = p.petition_id AND p.confirmed >= t.count
RETURNING t.id
"""


def _thresholds_cross(*, now: datetime) -> int:
    """Stamp the thresholds the tallies have reached, in the flush's transaction and under its lock: each once."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _CROSS_SQL.format(threshold=CountThreshold._meta.db_table, total=PetitionTally._meta.db_table),
                {"now": now},
            )
            return len(cursor.fetchall())
    reached = CountThreshold.objects.filter(
        crossed_at__isnull=True,
        count__lte=Subquery(PetitionTally.objects.filter(petition_id=OuterRef("petition_id")).values("confirmed")),
    )
    return CountThreshold.objects.filter(pk__in=list(reached.values_list("pk", flat=True))).update(crossed_at=now)


def _thresholds_handle_soon() -> None:
    """Have the petitions app tell the organisers (the tasks named in VIGIL_THRESHOLD_HANDLERS), after the commit."""
    for name in settings.VIGIL_THRESHOLD_HANDLERS:
        enqueue(name)


def counts_flush_soon() -> None:
    """Where no worker and beat run beside the site (the embedded default), fold changes in as they commit;
    elsewhere beat's flush every few seconds does it."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        enqueue("signatures.tasks.signature_counts_flush_task")


def _flushed_at_note(now: datetime) -> None:
    try:
        cache.set(FLUSHED_AT_KEY, now.isoformat(), timeout=3600)
    except Exception:  # the cache is a nicety here; the counts are in the database
        logger.warning("Could not note the flush time in the cache", exc_info=True)


def signature_counts_flush(*, now: datetime | None = None, batch: int = FLUSH_BATCH) -> int:
    """Fold every signature whose state changed since the last flush into the tallies. Returns rows folded.

    Safe to run twice or concurrently: a second flush while one runs returns 0 at once.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [COUNTS_LOCK])
                    if not cursor.fetchone()[0]:
                        return total
                    cursor.execute(_sql(_FLUSH_SQL), {"batch": batch, "now": now})
                    changed = cursor.fetchone()[0]
            else:
                changed = _flush_portable(now=now, batch=batch)
            if changed and _thresholds_cross(now=now):
                _thresholds_handle_soon()
        total += changed
        if changed < batch:
            break
    _flushed_at_note(now)
    if total:
        logger.info("Folded %s signature change(s) into the counts", total)
    return total


def _flush_portable(*, now: datetime, batch: int) -> int:
    """The same flush through the ORM, for databases without data-modifying CTEs (the embedded SQLite default)."""
    fields = ["pk", "petition_id", "country", "region", "confirmed_at"]
    to_count = list(Signature.objects.filter(state=SignatureState.CONFIRMED, counted=False).values(*fields)[:batch])
    to_uncount = list(
        Signature.objects.filter(counted=True).exclude(state=SignatureState.CONFIRMED).values(*fields)[:batch]
    )
    Signature.objects.filter(pk__in=[row["pk"] for row in to_count]).update(counted=True)
    Signature.objects.filter(pk__in=[row["pk"] for row in to_uncount]).update(counted=False)
    totals: Counter = Counter()
    regions: Counter = Counter()
    hours: Counter = Counter()
    for rows, delta in ((to_count, 1), (to_uncount, -1)):
        for row in rows:
            hour = row["confirmed_at"].replace(minute=0, second=0, microsecond=0)
            totals[row["petition_id"]] += delta
            regions[(row["petition_id"], row["country"], row["region"])] += delta
            hours[(row["petition_id"], hour)] += delta
    for petition_id, delta in totals.items():
        PetitionTally.objects.get_or_create(petition_id=petition_id)
        PetitionTally.objects.filter(petition_id=petition_id).update(confirmed=F("confirmed") + delta, updated_at=now)
    for (petition_id, country, region), delta in regions.items():
        RegionTally.objects.get_or_create(petition_id=petition_id, country=country, region=region)
        RegionTally.objects.filter(petition_id=petition_id, country=country, region=region).update(
            confirmed=F("confirmed") + delta
        )
    for (petition_id, hour), delta in hours.items():
        HourTally.objects.get_or_create(petition_id=petition_id, hour=hour)
        HourTally.objects.filter(petition_id=petition_id, hour=hour).update(confirmed=F("confirmed") + delta)
    return len(to_count) + len(to_uncount)


def _lock_counts() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [COUNTS_LOCK])


def _actual(petition_id: int) -> tuple[int, dict, dict]:
    counted = Signature.objects.filter(petition_id=petition_id, counted=True)
    regions = {
        (row["country"], row["region"]): row["n"]
        for row in counted.values("country", "region").annotate(n=Count("pk")).order_by()
    }
    hours = {
        row["hour"]: row["n"]
        for row in counted.annotate(hour=TruncHour("confirmed_at")).values("hour").annotate(n=Count("pk")).order_by()
    }
    return sum(regions.values()), regions, hours


def signature_counts_reconcile(
    *, petition_id: int, now: datetime | None = None, record: bool = True
) -> list[CountCorrection]:
    """Recount one petition's tallies from its rows; rewrite and (unless record=False) record whatever drifted."""
    now = now or timezone.now()
    corrections: list[CountCorrection] = []
    with transaction.atomic():
        _lock_counts()
        total, regions, hours = _actual(petition_id)
        tally, _created = PetitionTally.objects.get_or_create(petition_id=petition_id)
        if tally.confirmed != total:
            corrections.append(
                CountCorrection(petition_id=petition_id, kind="total", recorded=tally.confirmed, actual=total)
            )
            PetitionTally.objects.filter(pk=petition_id).update(confirmed=total, updated_at=now)

        recorded_regions = {
            (row.country, row.region): row.confirmed for row in RegionTally.objects.filter(petition_id=petition_id)
        }
        region_diff = {
            f"{key[0]}/{key[1]}": [recorded_regions.get(key, 0), regions.get(key, 0)]
            for key in set(regions) | set(recorded_regions)
            if recorded_regions.get(key, 0) != regions.get(key, 0)
        }
        if region_diff:
            RegionTally.objects.filter(petition_id=petition_id).delete()
            RegionTally.objects.bulk_create(
                RegionTally(petition_id=petition_id, country=country, region=region, confirmed=n)
                for (country, region), n in regions.items()
            )
            corrections.append(
                CountCorrection(
                    petition_id=petition_id,
                    kind="regions",
                    recorded=len(region_diff),
                    actual=len(regions),
                    detail=dict(list(region_diff.items())[:200]),
                )
            )

        recorded_hours = {row.hour: row.confirmed for row in HourTally.objects.filter(petition_id=petition_id)}
        hour_diff = {
            hour.isoformat(): [recorded_hours.get(hour, 0), hours.get(hour, 0)]
            for hour in set(hours) | set(recorded_hours)
            if recorded_hours.get(hour, 0) != hours.get(hour, 0)
        }
        if hour_diff:
            HourTally.objects.filter(petition_id=petition_id).delete()
            HourTally.objects.bulk_create(
                HourTally(petition_id=petition_id, hour=hour, confirmed=n) for hour, n in hours.items()
            )
            corrections.append(
                CountCorrection(
                    petition_id=petition_id,
                    kind="hours",
                    recorded=len(hour_diff),
                    actual=len(hours),
                    detail=dict(list(hour_diff.items())[:200]),
                )
            )
        if not record:
            return []
        for correction in corrections:
            correction.created_at = now
        CountCorrection.objects.bulk_create(corrections)
    for correction in corrections:
        logger.warning("Count drift corrected on petition %s: %s", petition_id, correction)
    return corrections


def signature_counts_reconcile_all(*, now: datetime | None = None) -> int:
    """Reconcile every petition that has signatures or tallies. Returns the number of corrections."""
    signature_counts_flush(now=now)
    petition_ids = set(PetitionTally.objects.values_list("petition_id", flat=True)) | set(
        Signature.objects.filter(counted=True).values_list("petition_id", flat=True).distinct()
    )
    return sum(len(signature_counts_reconcile(petition_id=pk, now=now)) for pk in sorted(petition_ids))


def signature_counts_rebuild(*, petition_id: int, now: datetime | None = None) -> int:
    """After a bulk load: mark every row as counted per its state and rebuild the tallies from the rows."""
    with transaction.atomic():
        _lock_counts()
        Signature.objects.filter(petition_id=petition_id, state=SignatureState.CONFIRMED, counted=False).update(
            counted=True
        )
        Signature.objects.filter(petition_id=petition_id, counted=True).exclude(state=SignatureState.CONFIRMED).update(
            counted=False
        )
    signature_counts_reconcile(petition_id=petition_id, now=now, record=False)
    return PetitionTally.objects.get(pk=petition_id).confirmed
