"""Readiness checks behind /healthz, and the detail a monitor reads.

Each check answers None when healthy or a short reason when not. The verdict tells the truth about what visitors
get: "unavailable" (503) only when the site cannot take signatures at all, "degraded" (200) when a part is down or
a backlog is past its threshold but signing goes on (a database outage rides on the intake), "ok" otherwise.
Apps add what they know through VIGIL_HEALTH_REPORTS (dotted paths to functions returning a HealthReport): core
never imports the apps above it.
"""

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from core.models import OutboundEmail


@dataclass
class HealthReport:
    """What one part reports: numbers for monitoring, problems that degrade the verdict, and whether it lets the
    site take signatures while the database is down."""

    name: str
    detail: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    signs_without_database: bool = False


def check_database() -> str | None:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        connection.close_if_unusable_or_obsolete()
        return f"{type(exc).__name__}"
    return None


def check_redis() -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except Exception as exc:
        return f"{type(exc).__name__}"
    return None


def check_broker() -> str | None:
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}"
    return None


def outbox_report(*, database_up: bool) -> HealthReport:
    """The oldest one-to-one message still waiting to leave, and how long it has waited (a bulk mailing's messages
    wait their turn by design: they are sent when no other mail is waiting)."""
    report = HealthReport("outbox")
    if not database_up:
        return report
    unsent = OutboundEmail.objects.unsent().filter(mailing="")
    oldest = unsent.order_by("created_at").values_list("created_at", flat=True).first()
    age = None if oldest is None else round((timezone.now() - oldest).total_seconds(), 1)
    report.detail["oldest_unsent_seconds"] = age
    limit = settings.VIGIL_HEALTH_OUTBOX_MAX_AGE_SECONDS
    if age is not None and age > limit:
        report.problems.append(f"outbox: the oldest unsent e-mail has waited {age:.0f} s (threshold {limit} s)")
    return report


def health_report(*, detail: bool = False) -> tuple[str, dict]:
    """(verdict, body) of /healthz: the verdict is "ok", "degraded" or "unavailable"."""
    started = time.monotonic()
    checks = {"database": check_database}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
        checks["broker"] = check_broker
    results = {name: (check() or "ok") for name, check in checks.items()}
    database_up = results["database"] == "ok"
    reports = [outbox_report(database_up=database_up)]
    reports += [import_string(path)(database_up=database_up) for path in settings.VIGIL_HEALTH_REPORTS]
    problems = [f"{name}: {value}" for name, value in results.items() if value != "ok"]
    problems += [problem for report in reports for problem in report.problems]
    signs = database_up or any(report.signs_without_database for report in reports)
    verdict = "unavailable" if not signs else ("degraded" if problems else "ok")
    body = {"status": verdict, "checks": results}
    if detail:
        body["problems"] = problems
        body["detail"] = {report.name: report.detail for report in reports}
        body["detail"]["took_ms"] = round(1000 * (time.monotonic() - started), 1)
    return verdict, body
