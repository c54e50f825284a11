"""Reads of the signature ledger for the public page and the organisers' dashboard.

Every public read is served by an index at any size: the count is one tally row; countries, regions and the hourly
series come from the tally tables; "latest signers" walks signature_public_latest_idx (petition, confirmed_at DESC)
WHERE state = 'confirmed' AND show_publicly, and stops after a handful of rows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from signatures.countries import country_name
from signatures.email import GMAIL_DOMAINS, PLUS_ADDRESSING_DOMAINS
from signatures.models import (
    HourTally,
    PetitionTally,
    RegionTally,
    Signature,
    SignatureInvalidation,
    SignatureRule,
    SignatureRuleChange,
    SignatureState,
)

# Domains too common for "many signers share a domain" to mean anything.
COMMON_DOMAINS = PLUS_ADDRESSING_DOMAINS | GMAIL_DOMAINS | {
    "yahoo.com", "yahoo.co.uk", "aol.com", "gmx.de", "gmx.net", "web.de", "orange.fr", "free.fr", "mail.ru",
    "yandex.ru", "qq.com", "163.com", "btinternet.com", "posteo.de", "tutanota.com", "zoho.com",
}  # fmt: skip


@dataclass(frozen=True)
class PublicSigner:
    name: str
    place: str
    confirmed_at: datetime


def signature_count(*, petition_id: int) -> int:
    return PetitionTally.objects.filter(pk=petition_id).values_list("confirmed", flat=True).first() or 0


def signers_latest(*, petition_id: int, limit: int = 10) -> list[PublicSigner]:
    """Confirmed signers who agreed to be shown: first name, last initial, and town or else country."""
    rows = (
        Signature.objects.public()
        .filter(petition_id=petition_id)
        .order_by("-confirmed_at")
        .values_list("first_name", "last_name", "town", "country", "confirmed_at")[:limit]
    )
    signers = []
    for first, last, town, country, confirmed_at in rows:
        name = f"{first} {last[:1]}." if last else first
        signers.append(PublicSigner(name=name, place=town or country_name(country), confirmed_at=confirmed_at))
    return signers


def counts_by_country(*, petition_id: int, limit: int = 10) -> list[dict]:
    rows = (
        RegionTally.objects.filter(petition_id=petition_id, confirmed__gt=0)
        .values("country")
        .annotate(n=Sum("confirmed"))
        .order_by("-n", "country")[:limit]
    )
    return [{"code": row["country"], "name": country_name(row["country"]), "count": row["n"]} for row in rows]


def counts_by_region(*, petition_id: int, limit: int = 10) -> list[dict]:
    rows = (
        RegionTally.objects.filter(petition_id=petition_id, confirmed__gt=0)
        .exclude(region="")
        .order_by("-confirmed", "country", "region")
        .values("country", "region", "confirmed")[:limit]
    )
    return [
        {"region": row["region"], "country": country_name(row["country"]), "count": row["confirmed"]} for row in rows
    ]


def hourly_series(*, petition_id: int) -> list[tuple[datetime, int]]:
    return list(HourTally.objects.filter(petition_id=petition_id).order_by("hour").values_list("hour", "confirmed"))


# --- The organisers' dashboard -------------------------------------------------------------------------------------


def signature_totals(*, petition_id: int) -> dict[str, int]:
    found = dict(
        Signature.objects.filter(petition_id=petition_id)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("state", "n")
    )
    return {state.value: found.get(state.value, 0) for state in SignatureState}


class _Counted:
    """Rows whose number is already known. Paginator takes any sliceable object with a count() method, and asks it
    for the total instead of counting the rows itself."""

    def __init__(self, queryset, total: int):
        self.queryset, self.total = queryset, total

    def count(self) -> int:
        return self.total

    def __getitem__(self, key):
        return self.queryset[key]


def signatures_recent_page(*, petition_id: int, page_number, total: int, per_page: int = 50) -> Page:
    """Newest first, paginated; `total` (from signature_totals) spares a second count of every row."""
    queryset = (
        Signature.objects.filter(petition_id=petition_id)
        .order_by("-created_at", "-pk")
        .only(
            "first_name", "last_name", "town", "country", "region", "state", "email_domain", "created_at",
            "confirmed_at", "referrer_host", "utm_source", "ip_hash", "show_publicly",
        )
    )  # fmt: skip
    return Paginator(_Counted(queryset, total), per_page).get_page(page_number)


def signature_sources(*, petition_id: int, limit: int = 10) -> dict[str, list[dict]]:
    """Where signers came from: the referring site's host and the utm_source of the link they followed."""
    base = Signature.objects.filter(
        petition_id=petition_id, state__in=[SignatureState.PENDING, SignatureState.CONFIRMED]
    ).order_by()
    referrers = base.values("referrer_host").annotate(n=Count("pk")).order_by("-n", "referrer_host")[:limit]
    sources = base.values("utm_source").annotate(n=Count("pk")).order_by("-n", "utm_source")[:limit]
    return {
        "referrers": [{"label": row["referrer_host"] or "", "count": row["n"]} for row in referrers],
        "utm_sources": [{"label": row["utm_source"] or "", "count": row["n"]} for row in sources],
    }


def signature_bursts(
    *, petition_id: int, now: datetime | None = None, days: int = 7, hours: int | None = None
) -> list[dict]:
    """Hours in which one hashed address or one (uncommon) e-mail domain gave many signatures, over the last `days`
    (or `hours`)."""
    now = now or timezone.now()
    threshold = settings.VIGIL_SIGNATURE_BURST_THRESHOLD
    base = Signature.objects.filter(
        petition_id=petition_id,
        created_at__gte=now - (timedelta(hours=hours) if hours else timedelta(days=days)),
        state__in=[SignatureState.PENDING, SignatureState.CONFIRMED, SignatureState.HELD],
    ).order_by()
    bursts = []
    by_ip = (
        base.exclude(ip_hash="")
        .annotate(window=TruncHour("created_at"))
        .values("ip_hash", "window")
        .annotate(n=Count("pk"))
        .filter(n__gte=threshold)
        .order_by("-n")[:20]
    )
    for row in by_ip:
        bursts.append({"kind": "ip", "value": row["ip_hash"], "label": row["ip_hash"][:12], **_window(row)})
    by_domain = (
        base.exclude(email_domain="")
        .exclude(email_domain__in=COMMON_DOMAINS)
        .annotate(window=TruncHour("created_at"))
        .values("email_domain", "window")
        .annotate(n=Count("pk"))
        .filter(n__gte=threshold)
        .order_by("-n")[:20]
    )
    for row in by_domain:
        bursts.append({"kind": "domain", "value": row["email_domain"], "label": row["email_domain"], **_window(row)})
    bursts.sort(key=lambda burst: -burst["count"])
    return bursts


def _window(row: dict) -> dict:
    return {"since": row["window"], "until": row["window"] + timedelta(hours=1), "count": row["n"]}


def signatures_held_page(*, petition_id: int, page_number, per_page: int = 25) -> Page:
    """Signatures a rule held, oldest first (the order they are reviewed in), with the rule that held each."""
    rows = (
        Signature.objects.filter(petition_id=petition_id, state=SignatureState.HELD)
        .select_related("marked_by_rule")
        .order_by("pk")
        .only(
            "pk", "first_name", "last_name", "email_domain", "country", "created_at", "confirmed_at", "marked_by_rule",
            "marked_by_rule__kind", "marked_by_rule__value", "marked_by_rule__limit", "marked_by_rule__petition_id",
        )
    )  # fmt: skip
    return Paginator(rows, per_page).get_page(page_number)


def signatures_held_by_rule(*, petition_id: int) -> list[dict]:
    """How many of a petition's signatures each rule holds, most first: {"rule": SignatureRule, "count": n}."""
    counts = (
        Signature.objects.filter(petition_id=petition_id, state=SignatureState.HELD)
        .values("marked_by_rule")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    rules = SignatureRule.objects.in_bulk([row["marked_by_rule"] for row in counts if row["marked_by_rule"]])
    return [{"rule": rules.get(row["marked_by_rule"]), "count": row["n"]} for row in counts]


def signature_rules_for(*, petition_id: int | None) -> list[SignatureRule]:
    """The rules in force for one petition (its own), or for every petition (None)."""
    return list(
        SignatureRule.objects.filter(petition_id=petition_id, removed_at__isnull=True).select_related("created_by")
    )


def signature_rules_applying(*, petition_id: int) -> list[SignatureRule]:
    """Every rule that applies, or applied, to a petition: its own and staff's, removed ones too (what they held
    may still be held)."""
    return list(SignatureRule.objects.filter(Q(petition_id=petition_id) | Q(petition__isnull=True)))


def signature_rule_changes(*, petition_id: int | None, limit: int = 50) -> list[SignatureRuleChange]:
    return list(SignatureRuleChange.objects.filter(petition_id=petition_id).select_related("by", "rule")[:limit])


def invalidation_jobs(*, petition_id: int, limit: int = 50) -> list[SignatureInvalidation]:
    return list(
        SignatureInvalidation.objects.filter(petition_id=petition_id).select_related(
            "created_by", "cancelled_by", "reversed_by"
        )[:limit]
    )
