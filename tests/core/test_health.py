import json
import time

import pytest
from django.db import connection
from django.test import override_settings

from signatures.ratelimits import redis_client
from signatures.services import intake

pytestmark = pytest.mark.django_db(transaction=True)


def _without_database(client, path="/healthz"):
    connection.close()
    real_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"  # nothing listens there: the app cannot reach its database
    try:
        return client.get(path)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port


def test_healthy_when_database_redis_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0", CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_degraded_names_redis_and_broker_when_they_do_not_answer(client):
    """Without Redis the site still serves and signs (in the request): degraded, not unavailable."""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] != "ok" and body["checks"]["broker"] != "ok"


def test_unavailable_names_the_database_when_nothing_can_sign_without_it(client):
    response = _without_database(client)  # the suite's settings leave the intake off
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == "OperationalError"
    assert client.get("/healthz").status_code == 200  # and it recovers once the database is back


def test_with_the_intake_on_a_database_outage_is_degraded_not_unavailable(client, settings):
    settings.VIGIL_SIGN_INTAKE = True
    response = _without_database(client, "/healthz?detail=1")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["checks"]["database"] == "OperationalError"
    assert body["detail"]["intake"]["enabled"] is True


def test_the_detail_reports_the_intakes_backlog_its_age_and_the_drain_lock(client, settings):
    settings.VIGIL_SIGN_INTAKE = True
    client_ = redis_client()
    waited = 45
    client_.rpush(intake.intake_key(), json.dumps({"signed_at": time.time() - waited, "petition_id": 1}))
    client_.set(intake._key("lock"), "web-3:77:abc", px=3000)
    try:
        body = client.get("/healthz?detail=1").json()
    finally:
        client_.delete(intake.intake_key(), intake._key("lock"))
    detail = body["detail"]["intake"]
    assert detail["length"] == 1 and waited <= detail["oldest_seconds"] < waited + 5
    assert detail["lock_holder"] == "web-3:77:abc" and 0 < detail["lock_expires_in_seconds"] <= 3
    assert detail["redis_persistence"].startswith(("off", "appendonly"))
    assert body["status"] == "degraded"  # past VIGIL_HEALTH_INTAKE_MAX_AGE_SECONDS (30)
    assert any("waits to be written: 45 s" in problem for problem in body["problems"])
    assert body["detail"]["outbox"] == {"oldest_unsent_seconds": None}
    after = client.get("/healthz?detail=1").json()
    assert after["detail"]["intake"]["length"] == 0 and after["detail"]["intake"]["lock_holder"] is None
    assert not any("waits" in problem for problem in after["problems"])


def test_an_old_unsent_email_degrades_the_verdict(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from core.models import OutboundEmail

    row = OutboundEmail.objects.create(to=["a@example.org"], subject="s", body_text="b")
    OutboundEmail.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    body = client.get("/healthz?detail=1").json()
    assert body["status"] == "degraded"
    assert 590 < body["detail"]["outbox"]["oldest_unsent_seconds"] < 700
