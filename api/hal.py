"""HAL+JSON as OSDI and Action Network's API v2 write it: absolute links, `curies`, collections with their items
under `_embedded` (and listed in `_links`), and dates in UTC with a trailing Z."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.http import HttpRequest

API_ROOT = "/api/v1/"
NAMESPACE = "vigil"


def absolute(request: HttpRequest, path: str, **query) -> str:
    query = {key: value for key, value in query.items() if value not in (None, "")}
    return request.build_absolute_uri(path + (f"?{urlencode(query)}" if query else ""))


def api_url(request: HttpRequest, path: str = "", **query) -> str:
    return absolute(request, API_ROOT + path, **query)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def curies(request: HttpRequest) -> list[dict]:
    docs = absolute(request, "/api/v1/docs/") + "#{rel}"
    return [{"name": "osdi", "href": docs, "templated": True}, {"name": NAMESPACE, "href": docs, "templated": True}]


def collection(
    request: HttpRequest,
    *,
    kind: str,
    path: str,
    items: list[dict],
    page: int,
    per_page: int,
    total_records: int,
    query: dict,
    prefix: str = "osdi",
) -> dict:
    """One page of a collection, under `prefix:kind`. `next` is there while the page is full (an empty page ends the
    walk, as Action Network's clients expect); `previous` from page 2 on."""
    total_pages = -(-total_records // per_page) if total_records else 0
    links = {
        "self": {"href": api_url(request, path, page=page if page > 1 else None, per_page=per_page, **query)},
        "curies": curies(request),
    }
    if all("_links" in item for item in items):
        links[f"{prefix}:{kind}"] = [{"href": item["_links"]["self"]["href"]} for item in items]
    if len(items) == per_page:
        links["next"] = {"href": api_url(request, path, page=page + 1, per_page=per_page, **query)}
    if page > 1:
        links["previous"] = {"href": api_url(request, path, page=page - 1, per_page=per_page, **query)}
    return {
        "total_pages": total_pages,
        "per_page": per_page,
        "page": page,
        "total_records": total_records,
        "_links": links,
        "_embedded": {f"{prefix}:{kind}": items},
    }
