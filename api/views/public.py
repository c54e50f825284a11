"""What anyone may read through the API, without a token: published articles, and the sign-on letters of public
petitions with their verified signatories, showing exactly what the public pages show."""

from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.errors import HttpError

from api import hal, schemas
from api.operations import OPTIONS, PageQuery, page_filter, paging, public_id, rows_of_page
from articles.models import Article
from deliverables.models import Letter, LetterState, SignOn, SignOnState
from petitions.models import PUBLIC_STATUSES, Petition

router = Router(auth=None, tags=["public"])
REFUSALS = dict.fromkeys((400, 404, 413), schemas.Error)
ARTICLE_FILTERS = {"created_date": "published_at", "modified_date": "updated_at"}
LETTER_FILTERS = {"created_date": "created_at", "modified_date": "created_at"}


def _article_json(request: HttpRequest, article: Article) -> dict:
    related = article.related_petition
    links = {"self": {"href": hal.api_url(request, f"articles/{article.public_id}")}}
    if related is not None and related.status in PUBLIC_STATUSES:
        links["vigil:petition_page"] = {"href": hal.absolute(request, related.get_absolute_url())}
    return {
        "identifiers": [f"{hal.NAMESPACE}:{article.public_id}"],
        "origin_system": "Vigil",
        "created_date": hal.iso(article.published_at),
        "modified_date": hal.iso(article.updated_at),
        "title": article.title,
        "description": article.standfirst,
        "content": article.body,
        "browser_url": hal.absolute(request, article.get_absolute_url()),
        "section": article.section.name,
        "authors": [author.name for author in article.authors.all()],
        "source": {"name": article.source_name, "url": article.source_url or None} if article.source_name else None,
        "_links": links,
    }


def _page(request: HttpRequest, query: PageQuery, *, kind: str, queryset, filters: dict, order: tuple, to_json):
    """One page of a small public collection (hundreds or thousands of rows: counted and cut by position)."""
    page, per_page = paging(query)
    condition = page_filter(query, filters)
    if condition is not None:
        queryset = queryset.filter(condition)
    rows = rows_of_page(queryset.order_by(*order), page, per_page)
    return hal.collection(
        request, kind=kind, path=kind, prefix=hal.NAMESPACE, items=[to_json(request, row) for row in rows],
        page=page, per_page=per_page, total_records=queryset.count(), query={"filter": query.filter},
    )  # fmt: skip


def _articles():
    return Article.objects.published().select_related("section", "related_petition").prefetch_related("authors")


@router.get("/articles", response={200: schemas.ArticlePage, **REFUSALS}, **OPTIONS)
def articles(request: HttpRequest, query: Query[PageQuery]):
    """Published articles, newest first."""
    return _page(request, query, kind="articles", queryset=_articles(), filters=ARTICLE_FILTERS,
                 order=("-published_at", "-pk"), to_json=_article_json)  # fmt: skip


@router.get("/articles/{article_id}", response={200: schemas.Article, **REFUSALS}, **OPTIONS)
def article(request: HttpRequest, article_id: str):
    """One published article."""
    found = _articles().filter(public_id=public_id(article_id)).first()
    if found is None:
        raise Http404
    return _article_json(request, found)


def _letters():
    return (
        Letter.objects.filter(petition__in=Petition.objects.public())
        .exclude(state=LetterState.DRAFT)
        .select_related("petition", "current_version")
        .annotate(verified=Count("signons", filter=Q(signons__state=SignOnState.VERIFIED)))
    )


def _letter_json(request: HttpRequest, letter: Letter) -> dict:
    path = f"letters/{letter.public_id}"
    return {
        "identifiers": [f"{hal.NAMESPACE}:{letter.public_id}"],
        "origin_system": "Vigil",
        "created_date": hal.iso(letter.created_at),
        "modified_date": hal.iso(letter.closed_at or letter.opened_at or letter.created_at),
        "title": letter.title,
        "content": letter.current_version.body if letter.current_version else letter.body,
        "kind": letter.kind,
        "state": letter.state,
        "browser_url": hal.absolute(request, letter.get_absolute_url()),
        "petition_title": letter.petition.title,
        "total_signatories": letter.verified,
        "_links": {
            "self": {"href": hal.api_url(request, path)},
            "vigil:signatories": {"href": hal.api_url(request, f"{path}/signatories")},
            "vigil:petition_page": {"href": hal.absolute(request, letter.petition.get_absolute_url())},
        },
    }


@router.get("/letters", response={200: schemas.LetterPage, **REFUSALS}, **OPTIONS)
def letters(request: HttpRequest, query: Query[PageQuery]):
    """Sign-on letters of public petitions, open or closed, newest first."""
    return _page(request, query, kind="letters", queryset=_letters(), filters=LETTER_FILTERS,
                 order=("-created_at", "-pk"), to_json=_letter_json)  # fmt: skip


def _letter(letter_id: str) -> Letter:
    found = _letters().filter(public_id=public_id(letter_id)).first()
    if found is None:
        raise Http404
    return found


@router.get("/letters/{letter_id}", response={200: schemas.Letter, **REFUSALS}, **OPTIONS)
def letter(request: HttpRequest, letter_id: str):
    """One letter."""
    return _letter_json(request, _letter(letter_id))


def _signatory_json(request: HttpRequest, letter: Letter, signon: SignOn) -> dict:
    """What the letter's public page shows of a verified signatory, and nothing more."""
    coalition = letter.is_coalition
    return {
        "name": signon.name,
        "signer_name": signon.signer_name,
        "signer_role": signon.signer_role or None,
        "website": (signon.website_link or None) if coalition else None,
        "logo_url": hal.absolute(request, signon.logo_url) if coalition and signon.logo and signon.logo_url else None,
        "holding": (signon.holding_label or None) if not coalition else None,
    }


@router.get("/letters/{letter_id}/signatories", response={200: schemas.SignatoryPage, **REFUSALS}, **OPTIONS)
def signatories(request: HttpRequest, letter_id: str, query: Query[PageQuery]):
    """A letter's verified signatories, by name."""
    found = _letter(letter_id)
    page, per_page = paging(query)
    if query.filter:
        raise HttpError(400, "Signatories cannot be filtered.")
    signons = (
        SignOn.objects.verified().filter(letter=found).order_by("name", "pk")
        .only("name", "website", "logo", "renditions", "signer_name", "signer_role", "holding_kind", "shares",
              "letter_id")
    )  # fmt: skip
    rows = rows_of_page(signons, page, per_page)
    return hal.collection(
        request, kind="signatories", path=f"letters/{found.public_id}/signatories", prefix=hal.NAMESPACE,
        items=[_signatory_json(request, found, row) for row in rows], page=page, per_page=per_page,
        total_records=found.verified, query={},
    )  # fmt: skip
