"""Fraud review: signatures held by a rule are counted or set aside, and invalidation jobs set aside every signature
matching some criteria, with a reason on record; the counts follow through the flush.

An invalidation job (SignatureInvalidation) is counted first: `invalidation_count` records the criteria, the reason
and how many signatures match now, and `invalidation_sample` shows some of them. `invalidation_start` then has a
worker set them aside in batches of VIGIL_INVALIDATION_BATCH (`invalidation_step`, one transaction each, walking ids
upwards, so a worker killed mid-run resumes where it stopped: the beat sweep queues it again). A running job can be
stopped (`invalidation_cancel`) and a finished or stopped one reversed (`invalidation_reverse`): each signature goes
back to the state it had (pending, confirmed, or held if a rule held it and no one has reviewed it).
"""

import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, Q, Value, When
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.jobs import enqueue
from core.models import Event, EventKind
from core.services.events import events_handle_soon
from signatures.models import InvalidationState, Signature, SignatureInvalidation, SignatureState
from signatures.services.counts import counts_flush_soon

logger = logging.getLogger(__name__)

# What a job may set aside: signatures that are, or may become, counted.
ELIGIBLE = (SignatureState.PENDING, SignatureState.CONFIRMED, SignatureState.HELD)


class ReviewError(ValueError):
    pass


@dataclass(frozen=True)
class Criteria:
    """Which of a petition's signatures a job sets aside; every field given must match (empty means any)."""

    domain: str = ""  # an e-mail domain, with its subdomains
    ip_hash: str = ""  # the keyed hash of an address, as the dashboard's bursts show it
    country: str = ""
    since: str = ""  # ISO times: signed at or after, and before
    until: str = ""
    name: str = ""  # a pattern matched on "first last", case folded; * stands for anything
    rule: int | None = None  # held or marked by this rule

    @classmethod
    def from_json(cls, data: dict) -> "Criteria":
        fields = cls.__dataclass_fields__
        return cls(**{key: value for key, value in (data or {}).items() if key in fields})

    def as_json(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value not in ("", None)}

    def is_empty(self) -> bool:
        return not self.as_json()

    @property
    def since_at(self) -> datetime | None:
        return parse_datetime(self.since) if self.since else None

    @property
    def until_at(self) -> datetime | None:
        return parse_datetime(self.until) if self.until else None


def _name_regex(pattern: str) -> str:
    parts = [re.escape(part) for part in pattern.strip().split("*")]
    return "^" + ".*".join(parts) + "$"


def criteria_clean(
    *,
    domain: str = "",
    ip_hash: str = "",
    country: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    name: str = "",
    rule: int | None = None,
) -> Criteria:
    """Criteria from a form's cleaned values; ReviewError when they would match everything or nothing."""
    if since and until and since >= until:
        raise ReviewError("The time window is empty: its start is not before its end.")
    criteria = Criteria(
        domain=(domain or "").strip().lower().lstrip("@"),
        ip_hash=(ip_hash or "").strip().lower(),
        country=(country or "").strip().upper(),
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
        name=(name or "").strip(),
        rule=rule,
    )
    narrowing = {key for key in criteria.as_json() if key not in ("since", "until")}
    if not narrowing:
        raise ReviewError(
            "Choose at least a domain, an address hash, a country, a name or a rule: a time window alone would set "
            "aside every signature in it."
        )
    if criteria.name and criteria.name.replace("*", "").strip() == "":
        raise ReviewError("A name pattern needs at least one letter besides *.")
    return criteria


def signatures_matching(*, petition, criteria: Criteria):
    """The petition's signatures that a job with these criteria would set aside now."""
    rows = Signature.objects.filter(petition=petition, state__in=ELIGIBLE)
    if criteria.domain:
        rows = rows.filter(Q(email_domain=criteria.domain) | Q(email_domain__endswith="." + criteria.domain))
    if criteria.ip_hash:
        # The dashboard shows the start of a hash; a whole one matches exactly.
        rows = rows.filter(ip_hash__startswith=criteria.ip_hash)
    if criteria.country:
        rows = rows.filter(country=criteria.country)
    if criteria.since:
        rows = rows.filter(created_at__gte=criteria.since_at)
    if criteria.until:
        rows = rows.filter(created_at__lt=criteria.until_at)
    if criteria.rule is not None:
        rows = rows.filter(marked_by_rule_id=criteria.rule)
    if criteria.name:
        regex = _name_regex(criteria.name)
        rows = rows.annotate(full_name=Concat("first_name", Value(" "), "last_name", output_field=CharField())).filter(
            Q(first_name__iregex=regex) | Q(last_name__iregex=regex) | Q(full_name__iregex=regex)
        )
    return rows


# --- Invalidation jobs ------------------------------------------------------------------------------------------


def invalidation_count(
    *, petition, by, reason: str, criteria: Criteria, now: datetime | None = None
) -> SignatureInvalidation:
    """The dry run: record who asks, why and for what, and how many signatures match now. Nothing is set aside."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("Say why these signatures are being set aside: the reason is kept on record.")
    if criteria.is_empty():
        raise ReviewError("Choose which signatures to set aside.")
    matched = signatures_matching(petition=petition, criteria=criteria).count()
    return SignatureInvalidation.objects.create(
        petition=petition, created_by=by, created_at=now, reason=reason[:2000], criteria=criteria.as_json(),
        state=InvalidationState.COUNTED, matched=matched,
    )  # fmt: skip


def invalidation_sample(*, job: SignatureInvalidation, size: int = 10) -> list[Signature]:
    """Some of the signatures a counted job would set aside (newest first), or some it set aside."""
    if job.is_counted:
        rows = signatures_matching(petition=job.petition, criteria=Criteria.from_json(job.criteria))
    else:
        rows = Signature.objects.filter(invalidation=job)
    return list(rows.select_related("marked_by_rule").order_by("-created_at")[:size])


def _job_locked(job_id: int) -> SignatureInvalidation:
    return SignatureInvalidation.objects.select_for_update().select_related("petition").get(pk=job_id)


def invalidation_start(*, job: SignatureInvalidation, by, now: datetime | None = None) -> None:
    """Run a counted job: a worker sets its signatures aside in batches (those signed after this moment are not
    touched, whatever the criteria)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _job_locked(job.pk)
        if not locked.is_counted:
            raise ReviewError("This job has already been run.")
        newest = Signature.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        SignatureInvalidation.objects.filter(pk=job.pk).update(
            state=InvalidationState.RUNNING, started_at=now, batch_at=now, upto_id=newest, after_id=0
        )
        enqueue("signatures.tasks.invalidation_step_task", job.pk)
    logger.warning("%s started invalidation job %s on petition %s: %s", by, job.pk, job.petition_id, job.reason)


def invalidation_cancel(*, job: SignatureInvalidation, by, now: datetime | None = None) -> bool:
    """Stop a running job after its current batch; what it set aside stays set aside (reverse the job to undo it).
    False if it was not running."""
    now = now or timezone.now()
    updated = SignatureInvalidation.objects.filter(pk=job.pk, state=InvalidationState.RUNNING).update(
        state=InvalidationState.CANCELLED, cancelled_by=by, finished_at=now
    )
    return bool(updated)


def invalidation_reverse(*, job: SignatureInvalidation, by, now: datetime | None = None) -> None:
    """Put back every signature the job set aside, in batches, each to the state it had."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _job_locked(job.pk)
        if not locked.is_reversible:
            raise ReviewError("Only a finished or stopped job can be reversed.")
        SignatureInvalidation.objects.filter(pk=job.pk).update(
            state=InvalidationState.REVERSING, reversed_by=by, reversed_at=now, batch_at=now
        )
        enqueue("signatures.tasks.invalidation_step_task", job.pk)
    logger.warning("%s reversed invalidation job %s on petition %s", by, job.pk, job.petition_id)


# Each signature back to what it was: never confirmed → pending; held by a rule and not reviewed → held.
_RESTORED_STATE = Case(
    When(confirmed_at__isnull=True, then=Value(SignatureState.PENDING.value)),
    When(marked=True, then=Value(SignatureState.HELD.value)),
    default=Value(SignatureState.CONFIRMED.value),
)


def invalidation_step(*, job_id: int, now: datetime | None = None) -> bool:
    """One batch of a running or reversing job, in one transaction with the job's progress. True if there is more
    to do. Safe to run twice: a job in any other state is left alone, and a batch re-run finds its rows done."""
    now = now or timezone.now()
    size = settings.VIGIL_INVALIDATION_BATCH
    with transaction.atomic():
        job = _job_locked(job_id)
        if job.state == InvalidationState.RUNNING:
            criteria = Criteria.from_json(job.criteria)
            ids = list(
                signatures_matching(petition=job.petition, criteria=criteria)
                .filter(pk__gt=job.after_id, pk__lte=job.upto_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
            done = Signature.objects.filter(pk__in=ids, state__in=ELIGIBLE).update(
                state=SignatureState.INVALIDATED, invalidated_at=now, invalidation=job
            )
            more = len(ids) == size
            job.after_id = ids[-1] if ids else job.upto_id
            job.signature_count += done
            job.batch_at = now
            if not more:
                job.state, job.finished_at = InvalidationState.DONE, now
            job.save(update_fields=["after_id", "signature_count", "batch_at", "state", "finished_at"])
        elif job.state == InvalidationState.REVERSING:
            ids = list(
                Signature.objects.filter(invalidation=job, state=SignatureState.INVALIDATED)
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
            done = Signature.objects.filter(pk__in=ids).update(
                state=_RESTORED_STATE, invalidated_at=None, invalidation=None
            )
            more = len(ids) == size
            job.restored_count += done
            job.batch_at = now
            if not more:
                job.state = InvalidationState.REVERSED
            job.save(update_fields=["restored_count", "batch_at", "state"])
        else:
            return False
        counts_flush_soon()
    return more


def invalidations_sweep(*, now: datetime | None = None) -> int:
    """Queue again the jobs whose worker stopped mid-run (no batch for VIGIL_INVALIDATION_STALE_SECONDS)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.VIGIL_INVALIDATION_STALE_SECONDS)
    ids = list(
        SignatureInvalidation.objects.filter(
            state__in=[InvalidationState.RUNNING, InvalidationState.REVERSING], batch_at__lt=stale
        ).values_list("pk", flat=True)
    )
    for job_id in ids:
        SignatureInvalidation.objects.filter(pk=job_id).update(batch_at=now)
        enqueue("signatures.tasks.invalidation_step_task", job_id)
    return len(ids)


def signatures_invalidate(
    *,
    petition,
    by,
    reason: str,
    ip_hash: str = "",
    email_domain: str = "",
    since: datetime,
    until: datetime,
    now: datetime | None = None,
) -> SignatureInvalidation:
    """Set aside at once one burst from the dashboard (one hashed address or one e-mail domain within an hour):
    a job run in the request, small by nature, and reversible like any other."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("Say why these signatures are being set aside: the reason is kept on record.")
    if bool(ip_hash) == bool(email_domain):
        raise ReviewError("Choose either one address or one e-mail domain.")
    if since >= until:
        raise ReviewError("The time window is empty.")
    criteria = Criteria(
        ip_hash=ip_hash, since=since.isoformat(), until=until.isoformat(), domain="" if ip_hash else email_domain
    )
    # The burst is exactly this domain, not its subdomains as a job's domain would be.
    matching = signatures_matching(petition=petition, criteria=criteria)
    if email_domain:
        matching = matching.filter(email_domain=email_domain)
    with transaction.atomic():
        invalidation = SignatureInvalidation.objects.create(
            petition=petition, created_by=by, reason=reason, criteria=criteria.as_json(), created_at=now,
            state=InvalidationState.DONE, started_at=now, finished_at=now,
        )  # fmt: skip
        count = matching.update(state=SignatureState.INVALIDATED, invalidated_at=now, invalidation=invalidation)
        invalidation.signature_count = invalidation.matched = count
        invalidation.save(update_fields=["signature_count", "matched"])
        counts_flush_soon()
    logger.warning(
        "%s set aside %s signature(s) on petition %s (%s): %s", by, count, petition.pk, criteria.as_json(), reason
    )
    return invalidation


# --- Held signatures --------------------------------------------------------------------------------------------


def _release(*, petition, marked, by, now: datetime) -> tuple[int, int]:
    """Count the signatures of `marked` (a queryset of the petition's marked rows) that a rule held, and clear the
    mark of those not confirmed yet (they confirm as anyone does), each stamped with the review; with a
    signature.confirmed event for each one counted, for the petition's webhooks. Returns (reviewed, counted)."""
    rows = list(
        marked.select_for_update()
        .exclude(state__in=[SignatureState.WITHDRAWN, SignatureState.INVALIDATED])
        .values_list("pk", "state")
    )
    held = [pk for pk, state in rows if state == SignatureState.HELD]
    Signature.objects.filter(pk__in=held).update(
        state=SignatureState.CONFIRMED, marked=False, reviewed_at=now, reviewed_by=by
    )
    Signature.objects.filter(pk__in=[pk for pk, state in rows if state != SignatureState.HELD]).update(
        marked=False, reviewed_at=now, reviewed_by=by
    )
    if held and type(petition).objects.filter(pk=petition.pk, sends_events=True).exists():
        Event.objects.bulk_create(
            Event(kind=EventKind.SIGNATURE_CONFIRMED, petition_id=petition.pk, subject_id=pk, created_at=now)
            for pk in held
        )
        events_handle_soon()
    counts_flush_soon()
    return len(rows), len(held)


def signature_release(*, petition, signature_id: int, by, now: datetime | None = None) -> bool:
    """Count a signature a rule held: held becomes confirmed (a pending one confirms as usual from now on). The
    review is stamped on the row. False if it was not held (already reviewed, withdrawn, set aside)."""
    with transaction.atomic():
        marked = Signature.objects.filter(pk=signature_id, petition=petition, marked=True)
        reviewed, _counted = _release(petition=petition, marked=marked, by=by, now=now or timezone.now())
    return bool(reviewed)


def signatures_release_by_rule(*, petition, rule_id: int, by, now: datetime | None = None) -> int:
    """Count every signature of the petition that one rule held (and clear the mark of those it marked that are
    not confirmed yet), in one transaction. Returns how many were held."""
    with transaction.atomic():
        marked = Signature.objects.filter(petition=petition, marked=True, marked_by_rule_id=rule_id)
        _reviewed, counted = _release(petition=petition, marked=marked, by=by, now=now or timezone.now())
    logger.info("%s counted %s signature(s) held by rule %s on petition %s", by, counted, rule_id, petition.pk)
    return counted
