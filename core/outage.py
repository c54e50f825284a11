"""The database is down: say so once, answer 503 with Retry-After, and say when it is back.

While PostgreSQL cannot be reached, the sign path keeps taking signatures (it answers from a petition snapshot and
queues them in the intake) and cached pages keep being served; everything that truly needs the database answers a
plain 503 page that asks the visitor to come back, never a 500. Each process logs one line when it first meets the
outage and one when a new connection succeeds again, not one per request.
"""

import functools
import logging
import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# What a database that cannot be reached raises (psycopg2's errors arrive wrapped in these).
DATABASE_DOWN = (OperationalError, InterfaceError)

_lock = threading.Lock()
_outage = {"since": None, "answered": 0}


def database_unreachable(exc: BaseException, *, what: str = "pages that need it answer 503") -> None:
    """Note that the database could not be reached; the first time in an outage, log it (saying `what` follows)."""
    with _lock:
        first = _outage["since"] is None
        if first:
            _outage["since"] = time.monotonic()
            _outage["answered"] = 0
        _outage["answered"] += 1
    if first:
        logger.error("The database cannot be reached (%s: %s); %s until it is back", type(exc).__name__,
                     str(exc).strip().splitlines()[0] if str(exc).strip() else "", what)  # fmt: skip


def database_outage_seconds() -> float | None:
    """How long this process has seen the database down (None when it has not)."""
    since = _outage["since"]
    return None if since is None else time.monotonic() - since


def _reachable_again(sender, connection, **kwargs) -> None:
    if _outage["since"] is None:
        return
    with _lock:
        since, answered = _outage["since"], _outage["answered"]
        _outage["since"] = None
    if since is not None:
        logger.warning("The database is reachable again after %.1f s (%d requests met the outage)",
                       time.monotonic() - since, answered)  # fmt: skip


connection_created.connect(_reachable_again, dispatch_uid="core.outage.reachable_again")


def while_database_down(default=0):
    """For tasks beat runs every second or two (the intake drain, the outbox pump, the count flush): while the
    database cannot be reached, a run notes it (one log line per outage per process) and returns `default`; the
    next run tries again. Without this, each run would log a full traceback, hundreds a minute."""

    def decorator(function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except DATABASE_DOWN as exc:
                database_unreachable(exc, what="background work waits")
                from django.db import connections

                for connection in connections.all(initialized_only=True):
                    connection.close_if_unusable_or_obsolete()
                return default

        return wrapped

    return decorator


def outage_response() -> HttpResponse:
    retry_after = settings.VIGIL_OUTAGE_RETRY_AFTER_SECONDS
    response = HttpResponse(render_to_string("503.html", {"retry_after": retry_after}), status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """A view that meets an unreachable database answers the 503 page (logged once per outage), not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_DOWN):
            return None
        database_unreachable(exception)
        return outage_response()
