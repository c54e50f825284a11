"""What every operation of the API shares: how pages are asked for and read, filters, public ids, the options
its answers are rendered with, and the refusals any call may get."""

import uuid

from django.http import Http404
from ninja import Schema
from ninja.errors import HttpError
from pydantic import Field

from api import hal, schemas
from api.odata import FilterInvalid, filter_q

MAX_PAGE_SIZE = 25
MAX_OFFSET = 2**31  # past the end of any collection, and within what PostgreSQL's OFFSET holds
OPTIONS = {"by_alias": True, "exclude_none": True}
# What any call may be answered besides its own success: unreadable (400), no live token (401), not this token's
# (404), a body too big (413), too many calls (429).
REFUSALS = dict.fromkeys((400, 401, 404, 413, 429), schemas.Error)


class PageQuery(Schema):
    page: str | None = Field(None, description="1 for the first page (the default).")
    per_page: str | None = Field(None, description=f"Items per page, at most {MAX_PAGE_SIZE} (the default).")
    filter: str | None = Field(
        None, description="OData, e.g. modified_date gt '2026-01-01'; operators eq ne gt ge lt le, joined by and."
    )


def paging(query: PageQuery) -> tuple[int, int]:
    """Page and page size. Numbers that are not numbers fall back to the defaults (some clients send them mangled);
    a page below 1 or a size below 1 is refused; a size above the maximum is the maximum."""
    try:
        page = int(query.page) if query.page not in (None, "") else 1
    except ValueError:
        page = 1
    try:
        per_page = int(query.per_page) if query.per_page not in (None, "") else MAX_PAGE_SIZE
    except ValueError:
        per_page = MAX_PAGE_SIZE
    if page < 1:
        raise HttpError(400, "page must be 1 or more.")
    if per_page < 1:
        raise HttpError(400, f"per_page must be between 1 and {MAX_PAGE_SIZE}.")
    return page, min(per_page, MAX_PAGE_SIZE)


def page_filter(query: PageQuery, fields: dict[str, str]):
    try:
        return filter_q(query.filter, fields=fields) if query.filter else None
    except FilterInvalid as exc:
        raise HttpError(400, str(exc)) from exc


# --- Resources -------------------------------------------------------------------------------------------------------


def public_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.removeprefix(f"{hal.NAMESPACE}:"))
    except ValueError:
        raise Http404 from None


def rows_of_page(queryset, page: int, per_page: int) -> list:
    """The rows of one page, cut by position; none for a page past the end of any collection (page 10^20 too)."""
    offset = (page - 1) * per_page
    return list(queryset[offset : offset + per_page]) if offset < MAX_OFFSET else []
