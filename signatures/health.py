"""What /healthz reports of the signing intake (core.health runs it through VIGIL_HEALTH_REPORTS)."""

from django.conf import settings

from core.health import HealthReport
from signatures.models import IntakeFailure
from signatures.ratelimits import redis_client
from signatures.services import intake


def intake_report(*, database_up: bool) -> HealthReport:
    """The intake's backlog and the age of its oldest entry, the drain lock's holder, the Redis persistence it
    relies on, and the entries set aside. While the intake is on, signing goes on without the database."""
    report = HealthReport("intake")
    client = redis_client()
    if client is None:
        report.detail["enabled"] = False
        return report
    persistence = intake.redis_persistence(client)
    enabled = intake.intake_enabled()
    age = intake.signature_intake_oldest_age()
    lock = intake.signature_intake_lock_holder()
    report.detail.update(
        enabled=enabled,
        redis_persistence=persistence.describe(),
        length=intake.signature_intake_backlog(),
        oldest_seconds=None if age is None else round(age, 1),
        lock_holder=lock[0] if lock else None,
        lock_expires_in_seconds=round(lock[1], 1) if lock else None,
    )
    if database_up:
        report.detail["set_aside"] = IntakeFailure.objects.count()
    if settings.VIGIL_SIGN_INTAKE and not persistence.durable:
        report.problems.append(f"intake: its Redis does not persist ({persistence.describe()})")
    limit = settings.VIGIL_HEALTH_INTAKE_MAX_AGE_SECONDS
    if age is not None and age > limit:
        report.problems.append(f"intake: the oldest signature waits to be written: {age:.0f} s (threshold {limit} s)")
    if report.detail.get("set_aside"):
        report.problems.append(f"intake: {report.detail['set_aside']} signature(s) set aside (admin: Intake failures)")
    report.signs_without_database = enabled
    return report
