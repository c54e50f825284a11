"""Reads that the article pages, feeds and search need; every one loads its relations up front."""

import html
import logging
import re

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from articles.models import Article, ArticleImage, Author, Section

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
SEARCH_MAX_QUERY = 200
NAV_SECTIONS_KEY = "articles:nav-sections"


def _with_relations(queryset: QuerySet[Article]) -> QuerySet[Article]:
    return queryset.select_related("section").prefetch_related(
        "authors", Prefetch("images", queryset=ArticleImage.objects.order_by("position", "pk"))
    )


def _listing(queryset: QuerySet[Article]) -> QuerySet[Article]:
    """For lists: the body, its text copy and the search vector are large and lists never show them."""
    return _with_relations(queryset).defer("body", "body_text", "search_vector")


def sections_for_navigation() -> list[Section]:
    """The header's sections, on every page a person gets rendered for them: kept in the cache until a section
    changes (articles.apps forgets them then), since a query costs several times a cache read."""
    try:
        sections = cache.get(NAV_SECTIONS_KEY)
    except Exception:
        logger.warning("Cache unavailable; reading the sections from the database", exc_info=True)
        return list(Section.objects.all())
    if sections is None:
        sections = list(Section.objects.all())
        try:
            cache.set(NAV_SECTIONS_KEY, sections, timeout=3600)
        except Exception:
            logger.warning("Cache unavailable; the sections were not kept", exc_info=True)
    return sections


def sections_for_navigation_forget() -> None:
    try:
        cache.delete(NAV_SECTIONS_KEY)
    except Exception:
        logger.warning("Cache unavailable; the header's sections expire on their own within an hour", exc_info=True)


def articles_latest(*, limit: int = 10) -> list[Article]:
    return list(_listing(Article.objects.published())[:limit])


def _page(queryset, page_number, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(page_number)


def article_page(*, page_number, section: Section | None = None, author: Author | None = None) -> Page:
    queryset = Article.objects.published()
    if section is not None:
        queryset = queryset.filter(section=section)
    if author is not None:
        queryset = queryset.filter(authors=author)
    return _page(_listing(queryset), page_number)


def article_for_reader(*, slug: str, user) -> Article:
    """A published article; staff who may preview also get drafts and scheduled ones."""
    queryset = _with_relations(Article.objects.all()).select_related("related_petition")
    if not (user.is_authenticated and user.has_perm("articles.preview_article")):
        queryset = queryset.filter(pk__in=Article.objects.published().values("pk"))
    article = queryset.filter(slug=slug).first()
    if article is None:
        raise Http404("No article at this address.")
    return article


def articles_for_feed(*, section: Section | None = None, limit: int = 30) -> list[Article]:
    queryset = Article.objects.published()
    if section is not None:
        queryset = queryset.filter(section=section)
    return list(
        queryset.select_related("section")
        .prefetch_related("authors")
        .defer("body", "body_text", "search_vector")[:limit]
    )


def search_terms(raw: str) -> str:
    """A reader's query, tidied: control characters gone, whitespace collapsed, length capped."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]", " ", raw or "")
    return " ".join(cleaned.split())[:SEARCH_MAX_QUERY]


_MARK_START, _MARK_STOP = "\x02", "\x03"


def _highlighted(snippet: str) -> str:
    """Escape the snippet, then turn the database's match markers into <mark> tags."""
    return html.escape(snippet).replace(_MARK_START, "<mark>").replace(_MARK_STOP, "</mark>")


def article_search(*, query: str, page_number) -> Page:
    """Ranked full-text search on PostgreSQL (websearch syntax: quotes, OR, -word); plain matching elsewhere.

    Each result carries `snippet_html`, an escaped excerpt with the matches in <mark>.
    """
    terms = search_terms(query)
    published = Article.objects.published(now=timezone.now())
    if not terms:
        return _page(Article.objects.none(), 1)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        search_query = SearchQuery(terms, search_type="websearch", config="english")
        queryset = (
            published.filter(search_vector=search_query)
            .annotate(rank=SearchRank(F("search_vector"), search_query))  # F(): the stored vector, not re-parsed
            .order_by("-rank", "-published_at")
        )
        page = _page(_listing(queryset), page_number)
        # Snippets only for the page's rows: ts_headline re-parses each body, too costly to run for every match.
        snippets = _headlines(search_query, [article.pk for article in page.object_list])
    else:
        words = terms.split()[:8]
        condition = Q()
        for word in words:
            condition &= Q(title__icontains=word) | Q(standfirst__icontains=word) | Q(body_text__icontains=word)
        page = _page(_listing(published.filter(condition).order_by("-published_at")), page_number)
        snippets = {}
    for article in page.object_list:
        snippet = snippets.get(article.pk)
        article.snippet_html = _highlighted(snippet) if snippet else html.escape(article.standfirst)
    return page


def _headlines(search_query, ids: list[int]) -> dict[int, str]:
    from django.contrib.postgres.search import SearchHeadline

    if not ids:
        return {}
    rows = Article.objects.filter(pk__in=ids).annotate(
        snippet=SearchHeadline(
            "body_text",
            search_query,
            config="english",
            start_sel=_MARK_START,
            stop_sel=_MARK_STOP,
            max_words=35,
            min_words=15,
            max_fragments=2,
            fragment_delimiter=" … ",
        )
    )
    return dict(rows.values_list("pk", "snippet"))
