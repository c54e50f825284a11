"""Public pages served to anonymous visitors from a rendered copy in the shared cache.

A surge lands on a handful of pages (a petition, the story that links to it, the front page, its discussion). Each
costs 10 to 60 ms of template rendering; served from the cache it costs one Redis round trip. The rules:

- Only anonymous visitors without a session or a pending message get the shared copy: a request carrying a session
  cookie (signed in, or in the middle of signing in) or a messages cookie is rendered for itself, as before, and its
  response says `Cache-Control: private`. So a signed-in page can never be stored, nor a stored page shown to
  someone signed in.
- A copy is rendered from a request stripped of everything personal: no cookies, no Referer, and only the query
  parameters the view declares as part of the key. The few per-visitor values a page holds (the CSRF token of a
  form, the referrer and campaign tags kept with a signature) are rendered as *holes*: unguessable markers, keyed
  on SECRET_KEY, that are filled in for each visitor by a byte replacement. The copy therefore holds nothing that
  belongs to one visitor, and two visitors never share a token. A copy is not stored if its rendering set a cookie,
  wrote the session or asked for a CSRF token other than through the hole.
- Freshness. Every copy records the *generations* it was built under: the site's content generation (bumped after
  any edit, publish, state change or sign-on decision) and, for a discussion, its own (bumped by any comment's
  change). A copy whose generation is not current is never served: one request rebuilds it while the others wait
  for it (up to VIGIL_PAGE_CACHE_WAIT_SECONDS) or render for themselves. Pages that show live counts are rebuilt
  after VIGIL_PAGE_CACHE_LIVE_SECONDS, the others after VIGIL_PAGE_CACHE_SECONDS; past that age one request
  rebuilds while the others are served the previous copy (no stampede). A copy can also carry a hard deadline
  (a petition's closing time), after which it is never served.
- HTTP: an ETag (bound to the visitor's CSRF secret where the page has a form) and Last-Modified give 304s;
  pages without holes say `public, s-maxage=N` so a proxy in front may keep them N seconds
  (VIGIL_PAGE_CACHE_PROXY_SECONDS); pages with a per-visitor hole say `private, no-cache`. All say `Vary: Cookie`.

If the cache is unreachable, pages are rendered as if there were no cache.
"""

import functools
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape
from django.utils.http import http_date

from core.outage import DATABASE_DOWN, database_outage_seconds, database_unreachable

logger = logging.getLogger(__name__)

CONTENT = "content"  # the site-wide scope: articles, sections, petitions, letters, sign-ons
_GEN_PREFIX = "pagecache:gen:"
_ENTRY_PREFIX = "pagecache:page:"
_MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage


# --- Holes: per-visitor values in a shared copy ------------------------------------------------------------------

_HOLES: dict[str, Callable[[HttpRequest], str]] = {}


def hole_register(name: str, value: Callable[[HttpRequest], str]) -> None:
    """Declare a per-visitor value that cached pages may hold; `value(request)` gives it for one visitor."""
    _HOLES[name] = value


@functools.cache
def _marker(name: str) -> str:
    # Letters and digits only, so that escaping leaves it as it is; keyed, so that no content can contain it.
    digest = hmac.new(settings.SECRET_KEY.encode(), f"pagecache-hole:{name}".encode(), hashlib.sha256).hexdigest()
    return f"vigilhole{digest[:24]}"


def visitor_value(request: HttpRequest, name: str, values: dict[str, str] | None = None) -> str:
    """A per-visitor value for a page: the value itself, or, while a shared copy is being rendered, its hole."""
    build = getattr(request, "_pagecache_build", None)
    if build is None:
        return _hole_value(request, name, values)
    build.holes.add(name)
    return _marker(name)


def _hole_value(request: HttpRequest, name: str, values: dict[str, str] | None) -> str:
    """This visitor's value for a hole: given by the view in `values`, else from the hole registered as `name`."""
    return values[name] if values and name in values else _HOLES[name](request)


def expires_at(request: HttpRequest, when: datetime | None) -> None:
    """A shared copy of this page must not be served after `when` (e.g. the moment a petition closes)."""
    build = getattr(request, "_pagecache_build", None)
    if build is not None and when is not None:
        deadline = when.timestamp()
        build.valid_until = deadline if build.valid_until is None else min(build.valid_until, deadline)


hole_register("csrf", get_token)


def csrf_context(request: HttpRequest) -> dict:
    """Context processor: while a shared copy renders, `{% csrf_token %}` writes the CSRF hole instead of a token."""
    build = getattr(request, "_pagecache_build", None)
    if build is None:
        return {}

    def hole() -> str:
        build.holes.add("csrf")
        return _marker("csrf")

    return {"csrf_token": SimpleLazyObject(hole)}


# --- Generations: what makes a copy out of date ------------------------------------------------------------------


def discussion_scope(article_slug: str) -> str:
    return f"discussion:{article_slug}"


def content_changed(*scopes: str) -> None:
    """Public content changed: copies built under the current generation of these scopes (the site's content if
    none is named) are no longer served.

    Inside a transaction it acts twice: at once, and again after the commit, because a copy rebuilt in between
    would show the content from before the change under the newer generation."""
    names = scopes or (CONTENT,)
    after_commit(lambda: _bump(names))


def after_commit(action: Callable[[], None]) -> None:
    """Run `action` now and, inside a transaction, once more after it commits (see content_changed)."""
    action()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(action)


def _bump(scopes) -> None:
    try:
        cache.set_many({_GEN_PREFIX + scope: uuid.uuid4().hex for scope in scopes}, timeout=None)
    except Exception:
        logger.exception("Could not mark cached pages out of date (%s); they expire on their own", ", ".join(scopes))


def watch_models(*models, scopes: Callable | None = None, forget: Callable | None = None) -> None:
    """Mark cached pages out of date whenever one of these models is saved or deleted (the admin included).
    `scopes(instance)` names the scopes a row belongs to; the site's content if not given. `forget(instance)`
    drops other cached reads of the row first, so that no rebuild under the new generation can read them. Writes
    made with QuerySet.update() send no signal: the services that make them call content_changed() themselves."""
    from django.db.models.signals import post_delete, post_save

    def receiver(sender, instance, **kwargs):
        if kwargs.get("raw"):
            return  # fixtures being loaded
        if forget is not None:
            after_commit(lambda: forget(instance))
        content_changed(*(scopes(instance) if scopes else ()))

    for model in models:
        uid = f"pagecache:{model._meta.label}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid + ":save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid + ":delete")


# --- The decorator -----------------------------------------------------------------------------------------------


@dataclass
class _Build:
    holes: set = field(default_factory=set)
    valid_until: float | None = None


@dataclass
class _Entry:
    body: bytes
    content_type: str
    generations: tuple
    built: float
    fresh_until: float
    valid_until: float | None
    etag: str
    holes: tuple


def small_page_number(value: str) -> bool:
    return value.isdigit() and len(value) <= 4


def shared_page(
    *,
    live: bool = False,
    query: dict[str, Callable[[str], bool]] | None = None,
    scopes: Callable[..., list[str]] | None = None,
):
    """Serve a GET view's page to anonymous visitors from a shared rendered copy.

    live: the page shows counts that move (rebuilt after VIGIL_PAGE_CACHE_LIVE_SECONDS, not VIGIL_PAGE_CACHE_SECONDS).
    query: the query parameters that choose a different page, each with a check of its value; a value that fails
    the check means this request is rendered for itself. Other parameters (campaign tags, click ids) are ignored
    and never reach the shared rendering.
    scopes: given the view's keyword arguments, the generation scopes beside the site's content (a discussion's).
    """
    query = query or {}

    def decorator(view):
        name = f"{view.__module__}.{getattr(view, '__qualname__', type(view).__name__)}"

        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not _eligible(request) or request.method != "GET":
                return _private(view(request, *args, **kwargs))
            params = []
            for param, check in query.items():
                value = request.GET.get(param, "")
                if value and not check(value):
                    return _private(view(request, *args, **kwargs))
                params.append((param, value))
            key = _key(request, f"{name}|{request.path}|{params}")
            gen_keys = [_GEN_PREFIX + CONTENT] + [_GEN_PREFIX + s for s in (scopes(**kwargs) if scopes else [])]
            return _serve(request, view, args, kwargs, key=key, gen_keys=gen_keys, params=params, live=live)

        return wrapped

    return decorator


def shared_render(
    request: HttpRequest,
    template_name: str,
    context: dict,
    *,
    key: tuple,
    values: dict[str, str] | None = None,
) -> HttpResponse:
    """Render a template that is the same for many visitors, once per `key`, from the shared cache.

    For pages that cannot be cached whole because the view must run (a confirmation link is checked before its
    page is shown) but whose HTML is the same for everyone in the same case. `values` are the per-visitor parts,
    given by the view: each is a hole in the shared copy, filled for this request. The copy follows the site's
    content generation. HTTP caching is left to the view (these pages are usually never_cache).
    """
    values = values or {}

    def view(request):
        holes = {name: visitor_value(request, name, values) for name in values}
        return render(request, template_name, {**context, **holes})

    if not _eligible(request):
        return _private(view(request))
    cache_key = _key(request, f"render|{template_name}|{key}")
    return _serve(
        request, view, (), {}, key=cache_key, gen_keys=[_GEN_PREFIX + CONTENT], params=[], live=False, values=values
    )


def _key(request: HttpRequest, source: str) -> str:
    # Pages hold absolute links (canonical, sharing), so the scheme and host are part of what they are.
    full = f"{request.scheme}|{request.get_host()}|{source}"
    return _ENTRY_PREFIX + hashlib.sha256(full.encode()).hexdigest()[:40]


def _eligible(request: HttpRequest) -> bool:
    if not settings.VIGIL_PAGE_CACHE:
        return False
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and _MESSAGES_COOKIE not in cookies


def _private(response: HttpResponse) -> HttpResponse:
    """A page rendered for one visitor: no shared cache may keep it."""
    patch_vary_headers(response, ["Cookie"])
    if not response.has_header("Cache-Control"):
        patch_cache_control(response, private=True)
    return response


_last_warning = [0.0]


def _warn(message: str) -> None:
    now = time.monotonic()
    if now - _last_warning[0] > 30:  # at most one line per process every 30 s while the cache is down
        _last_warning[0] = now
        logger.warning(message, exc_info=True)


def _serve(request, view, args, kwargs, *, key, gen_keys, params, live, values=None) -> HttpResponse:
    try:
        found = cache.get_many([key, *gen_keys])
    except Exception:
        _warn("Page cache unavailable; rendering pages for each visitor")
        return _private(view(request, *args, **kwargs))
    generations = tuple(found.get(gen_key) for gen_key in gen_keys)
    entry = found.get(key)
    now = time.time()
    usable = (
        isinstance(entry, _Entry)
        and entry.generations == generations
        and (entry.valid_until is None or now < entry.valid_until)
    )
    if usable and now < entry.fresh_until:
        return _respond(request, entry, values)
    lock = key + ":lock"
    if _try_lock(lock):
        try:
            try:
                built = _build(request, view, args, kwargs, params=params, generations=generations, live=live)
            except DATABASE_DOWN as exc:
                if not isinstance(entry, _Entry):
                    raise
                database_unreachable(exc)
                return _respond(request, entry, values)  # the database is down: the last copy, however old
            if isinstance(built, _Entry):
                _store(key, built)
                return _respond(request, built, values)
            return _private(built)
        finally:
            _unlock(lock)
    if usable:
        return _respond(request, entry, values)  # out of date only by age: the previous copy while another rebuilds it
    if isinstance(entry, _Entry) and database_outage_seconds() is not None:
        return _respond(request, entry, values)  # this process has seen the database down: no wait for a rebuild
    waited = _wait_for(key, generations, deadline=time.monotonic() + settings.VIGIL_PAGE_CACHE_WAIT_SECONDS)
    if waited is not None:
        return _respond(request, waited, values)
    return _private(view(request, *args, **kwargs))


def _try_lock(lock: str) -> bool:
    try:
        return cache.add(lock, 1, timeout=settings.VIGIL_PAGE_CACHE_LOCK_SECONDS)
    except Exception:
        _warn("Page cache unavailable; rendering pages for each visitor")
        return True  # render; storing will fail quietly too


def _unlock(lock: str) -> None:
    try:
        cache.delete(lock)
    except Exception:
        _warn("Page cache unavailable; a rebuild lock expires on its own")


def _store(key: str, entry: _Entry) -> None:
    grace = settings.VIGIL_PAGE_CACHE_STALE_SECONDS
    timeout = max(1, int(entry.fresh_until - entry.built) + grace)
    try:
        cache.set(key, entry, timeout=timeout)
    except Exception:
        _warn("Page cache unavailable; a rendered page was not stored")


def _wait_for(key: str, generations: tuple, *, deadline: float) -> "_Entry | None":
    """Another request is rebuilding this page: wait for its copy rather than render the same page again."""
    while time.monotonic() < deadline:
        time.sleep(0.02)
        try:
            entry = cache.get(key)
        except Exception:
            return None
        if isinstance(entry, _Entry) and entry.generations == generations:
            return entry
    return None


def _build(request, view, args, kwargs, *, params, generations, live):
    """Render the view for the shared copy, from the request with everything personal taken out."""
    saved = (request.GET, request.META.get("QUERY_STRING"), request.META.get("HTTP_REFERER"), request.COOKIES)
    shared_query = QueryDict(mutable=True)
    for param, value in params:
        if value:
            shared_query[param] = value
    request.GET = shared_query
    request.META["QUERY_STRING"] = shared_query.urlencode()
    request.META.pop("HTTP_REFERER", None)
    request.COOKIES = {}
    build = _Build()
    request._pagecache_build = build
    try:
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
    finally:
        del request._pagecache_build
        request.GET, request.META["QUERY_STRING"] = saved[0], saved[1] or ""
        if saved[2] is not None:
            request.META["HTTP_REFERER"] = saved[2]
        request.COOKIES = saved[3]
    session = getattr(request, "session", None)
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or (session is not None and session.modified)
    ):
        if response.status_code == 200:
            logger.warning("%s was not stored in the page cache: its rendering was personal", request.path)
        return response
    body = response.content
    now = time.time()
    ttl = settings.VIGIL_PAGE_CACHE_LIVE_SECONDS if live else settings.VIGIL_PAGE_CACHE_SECONDS
    return _Entry(
        body=body,
        content_type=response["Content-Type"],
        generations=generations,
        built=now,
        fresh_until=now + ttl,
        valid_until=build.valid_until,
        etag=hashlib.sha256(body).hexdigest()[:20],
        holes=tuple(sorted(build.holes)),
    )


def _respond(request: HttpRequest, entry: _Entry, values: dict[str, str] | None = None) -> HttpResponse:
    """The shared copy with this visitor's values filled in, and the headers that say how it may be kept."""
    body = entry.body
    visitor = hashlib.sha256()
    for name in entry.holes:
        value = _hole_value(request, name, values)
        marker = _marker(name).encode()
        if not value:  # Django leaves out an input's value attribute when it is empty: so does the copy
            body = body.replace(b' value="' + marker + b'"', b"")
        body = body.replace(marker, escape(value).encode())
        # The CSRF hole is bound to the visitor's secret, not to the masked token, which differs on every request.
        visitor.update((request.META.get("CSRF_COOKIE", "") if name == "csrf" else value).encode() + b"\0")
    if values is not None:  # a shared rendering inside a view that decides its own HTTP caching
        return HttpResponse(body, content_type=entry.content_type)
    etag = f'W/"{entry.etag}-{visitor.hexdigest()[:12]}"' if entry.holes else f'"{entry.etag}"'
    last_modified = int(entry.built)
    response = HttpResponse(body, content_type=entry.content_type)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_vary_headers(response, ["Cookie"])
    if entry.holes:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        proxy = min(settings.VIGIL_PAGE_CACHE_PROXY_SECONDS, int(entry.fresh_until - entry.built))
        patch_cache_control(response, public=True, max_age=0, s_maxage=proxy)
    # A page with a form is fresh for its own visitor only: judged by its ETag, never by its date alone.
    return get_conditional_response(
        request, etag=etag, last_modified=None if entry.holes else last_modified, response=response
    )
