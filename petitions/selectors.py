"""Reads for petition pages, the organisers' dashboard, the sitemap and the front page.

The public page during a surge: the petition row and its statistics (count, goal, latest signers, countries,
regions, chart) are cached together for VIGIL_PETITION_PAGE_CACHE_SECONDS, so thousands of refreshes a second cost
one cache read each and at most one rebuild per petition per few seconds. The page says how old its count is.
If the cache is down, the page is built from the database (every query uses an index) and still answers.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import pagecache
from core.outage import DATABASE_DOWN, database_unreachable
from petitions.charts import signatures_chart_svg
from petitions.models import (
    PUBLIC_STATUSES,
    ROLE_RANK,
    MembershipRole,
    Petition,
    PetitionMembership,
    PetitionRevision,
    PetitionStatus,
    PetitionUpdate,
)
from signatures import selectors as signature_selectors
from signatures.models import CountThreshold, SignatureInvalidation
from signatures.services.counts import FLUSHED_AT_KEY
from signatures.services.intake import signature_intake_backlog

logger = logging.getLogger(__name__)

PAGE_SIZE = 20


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Cache unavailable; building %s from the database", key, exc_info=True)
        return None


def _cache_set(key: str, value, timeout: int) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except Exception:
        logger.warning("Cache unavailable; %s not cached", key, exc_info=True)


def petition_public(*, slug: str) -> Petition:
    """An open, closed or delivered petition, by its address (cached briefly)."""
    key = f"petitions:by-slug:{slug}"
    petition = _cache_get(key)
    if petition is None:
        petition = Petition.objects.public().filter(slug=slug).first()
        if petition is None:
            raise Http404("No petition at this address.")
        _cache_set(key, petition, settings.VIGIL_PETITION_PAGE_CACHE_SECONDS)
    return petition


def petition_public_changed(*, petition: Petition) -> None:
    """A petition's public side changed (text, state, image) by a write that sends no signal: once it commits,
    forget its cached row and figures, then mark the pages that show it out of date (in that order, so a rebuild
    cannot read the old row). Saves go the same way through petitions.apps."""
    pagecache.after_commit(lambda: petition_public_forget(petition=petition))
    pagecache.content_changed()


def petition_public_forget(*, petition: Petition) -> None:
    keys = [f"petitions:by-slug:{petition.slug}", f"petitions:stats:{petition.pk}"]
    try:
        cache.delete_many(keys)
    except Exception:
        logger.warning("Cache unavailable; %s expire on their own", keys, exc_info=True)


@dataclass
class PetitionStats:
    count: int
    goal: int
    percent: int
    signers: list = field(default_factory=list)
    countries: list = field(default_factory=list)
    regions: list = field(default_factory=list)
    chart_svg: str = ""
    counted_at: datetime | None = None  # the count includes every confirmation up to about this time
    built_at: datetime | None = None
    articles: list = field(default_factory=list)
    revision_count: int = 0
    updates: list = field(default_factory=list)  # the latest published, newest first
    update_count: int = 0


def petition_stats(*, petition: Petition, now: datetime | None = None) -> PetitionStats:
    key = f"petitions:stats:{petition.pk}"
    stats = _cache_get(key)
    if stats is not None:
        return stats
    now = now or timezone.now()
    count = signature_selectors.signature_count(petition_id=petition.pk)
    goal = petition.goal_for(count)
    flushed_at = _cache_get(FLUSHED_AT_KEY)
    stats = PetitionStats(
        count=count,
        goal=goal,
        percent=min(100, int(100 * count / goal)) if goal else 0,
        signers=signature_selectors.signers_latest(petition_id=petition.pk, limit=10),
        countries=signature_selectors.counts_by_country(petition_id=petition.pk, limit=10),
        regions=signature_selectors.counts_by_region(petition_id=petition.pk, limit=10),
        chart_svg=signatures_chart_svg(
            signature_selectors.hourly_series(petition_id=petition.pk), title=f"Signatures over time: {petition.title}"
        ),
        counted_at=parse_datetime(flushed_at) if flushed_at else None,
        built_at=now,
        articles=petition_related_articles(petition=petition),
        revision_count=PetitionRevision.objects.filter(petition=petition).count(),
        **_latest_updates(petition=petition),
    )
    _cache_set(key, stats, settings.VIGIL_PETITION_PAGE_CACHE_SECONDS)
    return stats


LATEST_UPDATES = 3


def _latest_updates(*, petition: Petition) -> dict:
    found = list(PetitionUpdate.objects.published().filter(petition=petition)[: LATEST_UPDATES + 1])
    count = len(found) if len(found) <= LATEST_UPDATES else PetitionUpdate.objects.published().filter(
        petition=petition).count()  # fmt: skip
    return {"updates": found[:LATEST_UPDATES], "update_count": count}


def petition_updates_page(*, petition: Petition, page_number) -> Page:
    """A public petition's published updates, newest first."""
    updates = PetitionUpdate.objects.published().filter(petition=petition).select_related("petition")
    return Paginator(updates, settings.VIGIL_PETITION_UPDATES_PER_PAGE).get_page(page_number)


def petition_update_public(*, petition: Petition, number: int) -> PetitionUpdate:
    found = PetitionUpdate.objects.published().filter(petition=petition, number=number).first()
    if found is None:
        raise Http404("No such update.")
    found.petition = petition
    return found


def petition_updates_feed(*, petition: Petition) -> list[PetitionUpdate]:
    return list(
        PetitionUpdate.objects.published().filter(petition=petition)[: settings.VIGIL_PETITION_UPDATES_PER_PAGE]
    )


def petition_updates_sitemap_items():
    return (
        PetitionUpdate.objects.published()
        .filter(petition__status__in=PUBLIC_STATUSES)
        .select_related("petition")
        .only("number", "published_at", "updated_at", "petition__slug")
        .order_by("-published_at")
    )


def petition_thresholds(*, petition: Petition) -> list:
    return list(CountThreshold.objects.filter(petition=petition).order_by("count"))


def petition_updates_for_organisers(*, petition: Petition) -> list[PetitionUpdate]:
    return list(PetitionUpdate.objects.filter(petition=petition).select_related("created_by").order_by("-number"))


def petition_related_articles(*, petition: Petition, limit: int = 5) -> list:
    """Published articles that point at this petition (articles sit above petitions: by the reverse relation)."""
    return list(petition.articles.published().order_by("-published_at")[:limit])


def petition_revisions(*, petition: Petition) -> list[PetitionRevision]:
    return list(PetitionRevision.objects.filter(petition=petition).order_by("-number"))


def share_links(*, url: str, text: str) -> list[dict]:
    """Plain links to share a petition: nothing is loaded from those sites until a person follows one."""
    quoted_url, quoted_text = quote(url, safe=""), quote(text, safe="")
    return [
        {"label": "E-mail", "href": f"mailto:?subject={quoted_text}&body={quoted_url}"},
        {"label": "Bluesky", "href": f"https://bsky.app/intent/compose?text={quoted_text}%20{quoted_url}"},
        {"label": "Facebook", "href": f"https://www.facebook.com/sharer/sharer.php?u={quoted_url}"},
        {"label": "WhatsApp", "href": f"https://wa.me/?text={quoted_text}%20{quoted_url}"},
        {"label": "Telegram", "href": f"https://t.me/share/url?url={quoted_url}&text={quoted_text}"},
    ]


def petitions_public_page(*, page_number) -> Page:
    queryset = Petition.objects.public().select_related("tally").order_by("status", "-opened_at", "-pk")
    return Paginator(queryset, PAGE_SIZE).get_page(page_number)


def petition_featured() -> Petition | None:
    """The open petition with the most signatures, for the front page (with its count, from the tally)."""
    petition = (
        Petition.objects.filter(status=PetitionStatus.OPEN)
        .select_related("tally")
        .order_by("-tally__confirmed", "-opened_at")
        .first()
    )
    if petition is not None:
        count = petition.tally.confirmed if hasattr(petition, "tally") else 0
        petition.signature_count = count
        petition.display_goal = petition.goal_for(count)
        petition.percent = min(100, int(100 * count / petition.display_goal))
    return petition


def petition_featured_box() -> dict | None:
    """The front page's featured petition: the open one with the most signatures, with its cached count."""
    return petition_box(petition=petition_featured())


def petition_box(*, petition: Petition | None) -> dict | None:
    """The count, goal and progress of a petition as a box beside an article shows them (from the cached stats)."""
    if petition is None or not petition.is_public:
        return None
    stats = petition_stats(petition=petition)
    return {"petition": petition, "count": stats.count, "goal": stats.goal, "percent": stats.percent}


def petitions_sitemap_items():
    return Petition.objects.public().only("slug", "updated_at").order_by("-opened_at")


# --- Organisers ----------------------------------------------------------------------------------------------------


def petitions_for_member(*, user) -> list[Petition]:
    queryset = Petition.objects.for_member(user).select_related("tally").distinct().order_by("-created_at")
    return list(queryset[:200])


def petition_for_member(*, slug: str, user, role: str = MembershipRole.VIEWER) -> tuple[Petition, str]:
    """The petition and the user's role on it; 404 for a non-member (the petition's existence is private to
    members while a draft), PermissionDenied for a member whose role is too low."""
    petition = Petition.objects.filter(slug=slug).select_related("tally").first()
    if petition is None:
        raise Http404("No petition at this address.")
    if user.is_superuser:
        return petition, MembershipRole.OWNER
    membership = PetitionMembership.objects.filter(petition=petition, user=user).first()
    if membership is None:
        raise Http404("No petition at this address.")
    if not membership.allows(role):
        raise PermissionDenied(f"This needs the {MembershipRole(role).label.lower()} role on this petition.")
    return petition, membership.role


def petition_member_allows(*, petition_id: int, user, role: str) -> bool:
    """Whether the person holds `role` or a higher one on the petition now, as petition_for_member checks it for
    the organiser pages (a superuser holds every role)."""
    if user.is_superuser:
        return True
    membership = PetitionMembership.objects.filter(petition_id=petition_id, user=user).first()
    return membership is not None and membership.allows(role)


def petition_member_emails(*, petition: Petition, role: str) -> list[str]:
    """The e-mail addresses of the petition's members holding `role` or a higher one, with active accounts: whom a
    service writes to about the petition (a webhook switched off, a milestone passed)."""
    roles = [held for held, rank in ROLE_RANK.items() if rank >= ROLE_RANK[MembershipRole(role)]]
    return sorted(
        PetitionMembership.objects.filter(petition=petition, role__in=roles, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def petition_dashboard(*, petition: Petition, page_number, now: datetime | None = None) -> dict:
    totals = signature_selectors.signature_totals(petition_id=petition.pk)
    series = signature_selectors.hourly_series(petition_id=petition.pk)
    return {
        "totals": totals,
        "count": signature_selectors.signature_count(petition_id=petition.pk),
        "chart_svg": signatures_chart_svg(series, title=f"Confirmed signatures over time: {petition.title}"),
        "last_24h": _last_hours(series, now=now or timezone.now(), hours=24),
        "page": signature_selectors.signatures_recent_page(
            petition_id=petition.pk, page_number=page_number, total=sum(totals.values())
        ),
        "sources": signature_selectors.signature_sources(petition_id=petition.pk),
        "bursts": signature_selectors.signature_bursts(petition_id=petition.pk, now=now),
        "invalidations": list(
            SignatureInvalidation.objects.filter(petition=petition).select_related("created_by")[:20]
        ),
        "countries": signature_selectors.counts_by_country(petition_id=petition.pk, limit=20),
        "memberships": list(PetitionMembership.objects.filter(petition=petition).select_related("user")),
        "intake_backlog": signature_intake_backlog(),
    }


def _last_hours(series, *, now: datetime, hours: int) -> int:
    since = now - timedelta(hours=hours)
    return sum(count for hour, count in series if hour >= since)


# Snapshots of what signing reads of a petition (pk, slug, status, closing time, postal code rule) and the address of
# its thanks page: per process, and shared through the cache so that a process that starts during a database outage
# has one too.
_SNAPSHOT_FIELDS = ("pk", "slug", "status", "closes_at", "postal_code_required")
_sign_snapshots: dict[str, tuple[float, Petition | None, str]] = {}


def _snapshot_key(slug: str) -> str:
    return f"petitions:sign-snapshot:{slug}"


def _snapshot_share(slug: str, petition: Petition | None, thanks: str) -> None:
    values = None if petition is None else {name: getattr(petition, name) for name in _SNAPSHOT_FIELDS}
    try:
        cache.set(_snapshot_key(slug), (values, thanks), timeout=settings.VIGIL_SIGN_SNAPSHOT_SHARED_SECONDS)
    except Exception:  # the cache is down: the per-process snapshot still serves
        logger.debug("Could not share the signing snapshot of %s", slug, exc_info=True)


def _snapshot_shared(slug: str) -> tuple[Petition | None, str] | None:
    try:
        found = cache.get(_snapshot_key(slug))
    except Exception:
        return None
    if not found:
        return None
    values, thanks = found
    return (None if values is None else Petition(**values)), thanks


def petition_for_signing(*, slug: str) -> tuple[Petition | None, str]:
    """The petition as the sign path needs it, and its thanks page's address (reversed with the snapshot, not on
    every post), re-read at most every VIGIL_SIGN_PETITION_CACHE_SECONDS per process.

    A surge posts to one petition thousands of times a second; this spares each post a query. The cost: a petition
    that an organiser closes takes signatures for up to that many seconds more in each web process (a closing
    *time* is still checked exactly, against the clock). Error pages re-read the whole petition.

    When the database cannot be reached, the last snapshot (this process's, else the one shared through the cache)
    answers, and the database is tried again after the same interval: signing goes on, the signatures wait in the
    intake. With no snapshot at all, the database's error propagates (a 503 page, core.outage).
    """
    now = time.monotonic()
    interval = settings.VIGIL_SIGN_PETITION_CACHE_SECONDS
    hit = _sign_snapshots.get(slug)
    if hit is not None and hit[0] > now:
        return hit[1], hit[2]
    try:
        petition = Petition.objects.public().filter(slug=slug).only(*_SNAPSHOT_FIELDS).first()
    except DATABASE_DOWN as exc:
        known = (hit[1], hit[2]) if hit is not None else _snapshot_shared(slug)
        if known is None:
            raise
        database_unreachable(exc)
        _sign_snapshots[slug] = (now + interval, *known)
        return known
    thanks = reverse("petitions:thanks", args=[petition.slug]) if petition else ""
    if len(_sign_snapshots) > 1000:  # slugs are few; this only bounds what random addresses could fill
        _sign_snapshots.clear()
    if petition is not None or hit is not None:  # not for every random address someone types
        _snapshot_share(slug, petition, thanks)
    _sign_snapshots[slug] = (now + interval, petition, thanks)
    return petition, thanks
