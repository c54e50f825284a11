"""The public petition pages: the list, a petition (served from the page cache, with its sign form), its revisions."""

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import pagecache
from petitions import selectors
from petitions.forms import (
    SignForm,
)
from petitions.models import Petition

logger = logging.getLogger(__name__)


@require_GET
@pagecache.shared_page(live=True, query={"page": pagecache.small_page_number})
def petition_list(request: HttpRequest) -> HttpResponse:
    page = selectors.petitions_public_page(page_number=request.GET.get("page"))
    return render(request, "petitions/petition_list.html", {"page": page})


ORIGIN_FIELDS = ("utm_source", "utm_medium", "utm_campaign")


pagecache.hole_register("referrer", lambda request: request.headers.get("Referer", "")[:2000])


for _name in ORIGIN_FIELDS:
    pagecache.hole_register(_name, lambda request, name=_name: request.GET.get(name, "")[:100])


def _origin_initial(request: HttpRequest) -> dict:
    """Where the signer came from, kept with the signature: per visitor, so holes in a shared copy of the page."""
    return {name: pagecache.visitor_value(request, name) for name in ("referrer", *ORIGIN_FIELDS)}


def detail_response(request: HttpRequest, petition: Petition, form: SignForm, *, status: int = 200, notice: str = ""):
    url = request.build_absolute_uri(petition.get_absolute_url())
    context = {
        "petition": petition,
        "stats": selectors.petition_stats(petition=petition),
        "form": form,
        "accepts_signatures": petition.accepts_signatures(),
        "notice": notice,
        "share_url": url,
        "share_links": selectors.share_links(url=url, text=petition.title),
    }
    return render(request, "petitions/petition_detail.html", context, status=status)


@require_GET
@pagecache.shared_page(live=True)
def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    if petition.accepts_signatures():
        pagecache.expires_at(request, petition.closes_at)  # a copy with the form never outlives the closing time
    return detail_response(request, petition, SignForm(petition=petition, initial=_origin_initial(request)))


@require_GET
def petition_revisions(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    revisions = selectors.petition_revisions(petition=petition)
    return render(request, "petitions/revisions.html", {"petition": petition, "revisions": revisions})
