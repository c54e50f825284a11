"""Counts: no hot row, exact after a flush, confirmations/withdrawals/invalidations all followed, drift corrected."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from signatures import selectors
from signatures.models import CountCorrection, HourTally, PetitionTally, RegionTally, Signature, SignatureState
from signatures.services.counts import signature_counts_flush, signature_counts_rebuild, signature_counts_reconcile
from signatures.services.review import ReviewError, signatures_invalidate
from tests.petitions.factories import ConfirmedSignatureFactory, OpenPetitionFactory, PendingSignatureFactory

pytestmark = pytest.mark.django_db


def _confirm(signature, at):
    Signature.objects.filter(pk=signature.pk).update(state=SignatureState.CONFIRMED, confirmed_at=at)


def test_flush_folds_confirmations_into_total_region_and_hour_tallies(petition):
    hour = timezone.now().replace(minute=10, second=0, microsecond=0)
    for _i in range(3):
        ConfirmedSignatureFactory(petition=petition, country="GB", region="Scotland", confirmed_at=hour)
    ConfirmedSignatureFactory(petition=petition, country="FR", region="", confirmed_at=hour - timedelta(hours=1))
    PendingSignatureFactory(petition=petition)
    other = ConfirmedSignatureFactory(country="DE", confirmed_at=hour)  # another petition

    assert signature_counts_flush() == 5
    assert selectors.signature_count(petition_id=petition.pk) == 4
    assert selectors.signature_count(petition_id=other.petition_id) == 1
    assert selectors.counts_by_country(petition_id=petition.pk) == [
        {"code": "GB", "name": "United Kingdom", "count": 3},
        {"code": "FR", "name": "France", "count": 1},
    ]
    assert selectors.counts_by_region(petition_id=petition.pk) == [
        {"region": "Scotland", "country": "United Kingdom", "count": 3}
    ]
    assert [n for _, n in selectors.hourly_series(petition_id=petition.pk)] == [1, 3]
    assert signature_counts_flush() == 0  # nothing new: nothing done, counts unchanged
    assert selectors.signature_count(petition_id=petition.pk) == 4


def test_withdrawal_and_invalidation_leave_the_counts_at_the_next_flush(petition, django_user_model):
    signatures = [ConfirmedSignatureFactory(petition=petition, ip_hash="a" * 64) for _ in range(4)]
    signature_counts_flush()
    Signature.objects.filter(pk=signatures[0].pk).update(state=SignatureState.WITHDRAWN)
    organiser = django_user_model.objects.create(username="org", email="org@example.org")
    now = timezone.now()
    invalidation = signatures_invalidate(
        petition=petition, by=organiser, reason="Scripted from one address", ip_hash="a" * 64,
        since=now - timedelta(hours=1), until=now + timedelta(minutes=1),
    )  # fmt: skip
    assert invalidation.signature_count == 3  # the withdrawn one is not touched
    signature_counts_flush()
    assert selectors.signature_count(petition_id=petition.pk) == 0
    assert sum(row.confirmed for row in RegionTally.objects.filter(petition=petition)) == 0
    assert sum(row.confirmed for row in HourTally.objects.filter(petition=petition)) == 0


def test_invalidation_needs_a_reason_and_one_criterion(petition, django_user_model):
    user = django_user_model.objects.create(username="org", email="org@example.org")
    now = timezone.now()
    window = {"since": now - timedelta(hours=1), "until": now}
    with pytest.raises(ReviewError, match="Say why"):
        signatures_invalidate(petition=petition, by=user, reason="  ", ip_hash="a", **window)
    with pytest.raises(ReviewError, match="either"):
        signatures_invalidate(petition=petition, by=user, reason="x", ip_hash="a", email_domain="b.org", **window)


def test_reconcile_records_and_corrects_drift(petition):
    for _ in range(5):
        ConfirmedSignatureFactory(petition=petition)
    signature_counts_flush()
    assert signature_counts_reconcile(petition_id=petition.pk) == []  # nothing to correct
    PetitionTally.objects.filter(pk=petition.pk).update(confirmed=42)  # e.g. a restored backup
    RegionTally.objects.filter(petition=petition).update(confirmed=1)
    corrections = signature_counts_reconcile(petition_id=petition.pk)
    assert {c.kind for c in corrections} == {"total", "regions"}
    total = CountCorrection.objects.get(petition=petition, kind="total")
    assert (total.recorded, total.actual) == (42, 5)
    assert selectors.signature_count(petition_id=petition.pk) == 5
    assert selectors.counts_by_country(petition_id=petition.pk)[0]["count"] == 5


def test_rebuild_after_a_bulk_load(petition):
    for _ in range(3):
        ConfirmedSignatureFactory(petition=petition)
    assert signature_counts_rebuild(petition_id=petition.pk) == 3
    assert not CountCorrection.objects.exists()
    assert signature_counts_flush() == 0


def test_a_resigned_pending_row_still_counted_is_not_purged_until_the_flush(petition):
    from signatures.services.privacy import signatures_pending_purge

    old = timezone.now() - timedelta(days=60)
    counted = ConfirmedSignatureFactory(petition=petition, created_at=old)
    signature_counts_flush()
    Signature.objects.filter(pk=counted.pk).update(state=SignatureState.PENDING)  # withdrawn, then signed again
    stale = PendingSignatureFactory(petition=petition, created_at=old)
    fresh = PendingSignatureFactory(petition=petition)
    assert signatures_pending_purge() == 1
    assert set(Signature.objects.values_list("pk", flat=True)) == {counted.pk, fresh.pk}
    assert not Signature.objects.filter(pk=stale.pk).exists()
    signature_counts_flush()
    assert signatures_pending_purge() == 1
    assert selectors.signature_count(petition_id=petition.pk) == 0


def _fill(petition_id: int, rows: int) -> None:
    """rows signatures in one statement: 90 % confirmed, 60 % of those public, over 30 days and 20 countries."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Signature._meta.db_table}
              (petition_id, state, first_name, last_name, email, canonical_email, email_domain, country, region,
               town, postal_code, show_publicly, contact_ok, ip_hash, referrer_host, utm_source, utm_medium,
               utm_campaign, generation, mail_count, created_at, confirmed_at, counted)
            SELECT %s, CASE WHEN g %% 10 = 0 THEN 'pending' ELSE 'confirmed' END, 'Name' || g, 'Surname',
                   'p' || g || '@example.org', 'p' || g || '@example.org', 'example.org',
                   (ARRAY['GB','FR','DE','US','ES','IT','NL','BE','IE','PT','SE','NO','DK','FI','PL','CZ','AT','CH',
                          'CA','AU'])[1 + g %% 20], 'Region ' || (g %% 7), 'Town', '', g %% 5 < 3, false,
                   md5(g::text), '', '', '', '', 1, 1,
                   now() - (g || ' seconds')::interval,
                   CASE WHEN g %% 10 = 0 THEN NULL ELSE now() - (g || ' seconds')::interval END,
                   g %% 10 <> 0
            FROM generate_series(1, %s) AS g
            """,
            [petition_id, rows],
        )
        cursor.execute(f"ANALYZE {Signature._meta.db_table}")


def test_public_queries_use_their_indexes_with_many_signatures(petition):
    """'The latest signers' is the classic plan that goes bad at size: it must stay an index scan."""
    other = OpenPetitionFactory()
    _fill(petition.pk, 200_000)
    _fill(other.pk, 20_000)
    signature_rows = {
        "latest signers": Signature.objects.public().filter(petition_id=petition.pk).order_by("-confirmed_at")
        .values_list("first_name", "last_name", "town", "country", "confirmed_at")[:10],
        "flush, to count": Signature.objects.filter(state=SignatureState.CONFIRMED, counted=False).values("pk")[:100],
        "flush, to uncount": Signature.objects.filter(counted=True).exclude(state=SignatureState.CONFIRMED)
        .values("pk")[:100],
        "pending purge": Signature.objects.filter(state=SignatureState.PENDING, created_at__lt=timezone.now()
                                                  - timedelta(days=14)).values("pk")[:100],
        "dashboard recent": Signature.objects.filter(petition_id=petition.pk).order_by("-created_at", "-pk")[:50],
        "dedup lookup": Signature.objects.filter(petition_id=petition.pk, canonical_email="p77@example.org"),
    }  # fmt: skip
    plans = {name: query.explain() for name, query in signature_rows.items()}
    print("\n".join(f"--- {name}\n{plan}" for name, plan in plans.items()))  # noqa: T201 (the evidence, with -s)
    for name, plan in plans.items():
        assert "Seq Scan" not in plan, f"{name}:\n{plan}"
        assert "Index" in plan, f"{name}:\n{plan}"
    assert "signature_public_latest_idx" in plans["latest signers"]
    signature_counts_rebuild(petition_id=petition.pk)
    assert selectors.signature_count(petition_id=petition.pk) == 180_000
