"""The signing intake: the form hands signatures to a Redis list, the drain writes them in batches by the same rules.

Redis and PostgreSQL are the real ones; the drain is called directly here, and by a real worker in the last test.
"""

import json
import logging
import os
import subprocess
import sys
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

import signatures.services.intake as intake
from accounts.roles import ORGANISERS
from core.models import OutboundEmail
from signatures.models import IntakeFailure, IntakeReceipt, Signature, SignatureState
from signatures.ratelimits import redis_client
from signatures.services.signing import (
    signature_confirm,
    signature_confirm_token,
    signature_withdraw,
    signature_withdraw_token,
)
from tests.factories import staff_user
from tests.petitions.factories import ClosedPetitionFactory, OpenPetitionFactory
from tests.signatures.helpers import confirm_via_pages, form_data, outbox_rows, sign
from tests.utils import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _intake_on(settings, monkeypatch):
    """The intake on, and the view's nudge to the drain task off: the suite's real worker would otherwise drain the
    list in the middle of a test (and could not see its uncommitted petition). The worker test turns it back on."""
    settings.VIGIL_SIGN_INTAKE = True
    monkeypatch.setattr(intake, "_nudged_at", float("inf"))


def _post(client, petition, **overrides):
    return client.post(reverse("petitions:sign", args=[petition.slug]), form_data(**overrides))


def _entries() -> list[dict]:
    return [json.loads(entry) for entry in redis_client().lrange(intake.intake_key(), 0, -1)]


def test_the_form_queues_the_signature_and_the_drain_writes_it_with_its_confirmation(client, petition):
    response = _post(client, petition, email="Ann.Smith@Example.org")
    assert response.status_code == 303
    assert response["Location"] == reverse("petitions:thanks", args=[petition.slug])
    assert not Signature.objects.exists()  # not yet: it waits in the intake
    [entry] = _entries()
    assert entry["canonical_email"] == "ann.smith@example.org" and entry["petition_id"] == petition.pk
    assert entry["ip_hash"] and "127.0.0.1" not in json.dumps(entry)  # the address leaves the web process hashed
    assert intake.signature_intake_backlog() == 1

    assert intake.signature_intake_drain() == 1
    assert intake.signature_intake_backlog() == 0
    signature = Signature.objects.get()
    assert signature.state == SignatureState.PENDING and signature.first_name == "Ann"
    assert signature.referrer_host == "news.example.net" and signature.utm_source == "newsletter"
    [row] = outbox_rows()
    assert row.to == ["Ann.Smith@example.org"] and row.idempotency_key == f"signature-confirm:{signature.pk}"
    assert row.headers["Message-ID"] == row.message_id and row.message_id.endswith(">")
    confirm_via_pages(client, row)
    assert Signature.objects.get().state == SignatureState.CONFIRMED


def test_one_person_many_times_in_one_batch_and_across_batches_is_one_row_and_one_confirmation(client, petition):
    for email in ("ann.smith@gmail.com", "AnnSmith+petition@googlemail.com", "someone@example.org"):
        assert _post(client, petition, email=email).status_code == 303
    assert intake.signature_intake_drain() == 3
    assert _post(client, petition, email="a.n.n.smith@gmail.com").status_code == 303
    assert intake.signature_intake_drain() == 1
    assert sorted(Signature.objects.values_list("canonical_email", flat=True)) == [
        "annsmith@gmail.com",
        "someone@example.org",
    ]
    # The repeats came within the notice interval: no second message to the mailbox.
    assert [row.to for row in outbox_rows()] == [["ann.smith@gmail.com"], ["someone@example.org"]]


def test_a_withdrawn_signer_signing_again_through_the_intake_starts_over(client, petition):
    sign(petition, "ann@example.org")
    first = Signature.objects.get()
    signature_withdraw(token=signature_withdraw_token(signature=first))
    assert _post(client, petition, email="ann@example.org").status_code == 303
    intake.signature_intake_drain()
    again = Signature.objects.get()
    assert again.state == SignatureState.PENDING and again.generation == 2 and again.first_name == "Ann"
    assert OutboundEmail.objects.filter(idempotency_key=f"signature-confirm:{again.pk}:g2").exists()


@override_settings(VIGIL_SIGN_RATE_PER_EMAIL="1/h")
def test_over_a_limit_nothing_is_queued_and_the_form_comes_back(client, petition):
    assert _post(client, petition, email="ann@example.org").status_code == 303
    response = _post(client, petition, email="ann@example.org")
    assert response.status_code == 429
    assert 'value="ann@example.org"' in response.content.decode()  # what the signer typed is still there
    assert len(_entries()) == 1


@pytest.mark.parametrize(
    ("overrides", "status"),
    [({"first_name": "<script>alert(1)</script>"}, 400), ({"email": "no at sign"}, 400), ({"country": "XX"}, 400)],
)
def test_bad_input_is_answered_at_once_and_never_queued(client, petition, overrides, status):
    assert _post(client, petition, **overrides).status_code == status
    assert _entries() == []


def test_a_closed_petition_queues_nothing(client):
    petition = ClosedPetitionFactory()
    assert _post(client, petition).status_code == 409
    assert _entries() == []


def test_the_honeypot_queues_nothing(client, petition):
    assert _post(client, petition, website="http://spam.example").status_code == 303
    assert _entries() == []


def test_with_redis_down_the_form_writes_the_signature_itself(client, petition, caplog):
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=dead), caplog.at_level(logging.WARNING):
        assert _post(client, petition).status_code == 303
    assert Signature.objects.filter(canonical_email="ann@example.org").exists()
    assert len(outbox_rows()) == 1


def test_rows_the_database_refuses_are_set_aside_and_the_rest_are_written(client, petition, caplog):
    for email in ("one@example.org", "two@example.org"):
        _post(client, petition, email=email)
    client_ = redis_client()
    broken = _entries()[0] | {"email": "three@example.org", "canonical_email": "three@example.org",
                              "first_name": "x" * 500, "entry_id": uuid.uuid4().hex}  # fmt: skip
    client_.rpush(intake.intake_key(), json.dumps(broken), b"not json at all")
    with caplog.at_level(logging.ERROR):
        assert intake.signature_intake_drain() == 4
    assert sorted(Signature.objects.values_list("canonical_email", flat=True)) == ["one@example.org", "two@example.org"]
    unreadable = IntakeFailure.objects.get(entry="not json at all")
    refused = IntakeFailure.objects.exclude(pk=unreadable.pk).get()
    assert "Not a signature entry" in unreadable.error and unreadable.petition_id_hint is None
    assert "DataError" in refused.error and refused.petition_id_hint == petition.pk
    assert "set aside" in caplog.text
    assert intake.signature_intake_backlog() == 0


@pytest.mark.parametrize(
    "malformed",
    [
        {"signed_at": 1767225600.0},  # readable, but missing every field of a signature
        {"petition_id": "not a number", "canonical_email": "x@example.org", "signed_at": 1767225600.0},
        ["a", "list"],
    ],
)
def test_a_malformed_entry_is_set_aside_and_never_stops_the_intake(client, petition, malformed, caplog):
    client_ = redis_client()
    _post(client, petition, email="before@example.org")
    client_.rpush(intake.intake_key(), json.dumps(malformed))
    _post(client, petition, email="after@example.org")
    with caplog.at_level(logging.ERROR):
        assert intake.signature_intake_drain() == 3
    assert sorted(Signature.objects.values_list("canonical_email", flat=True)) == [
        "after@example.org",
        "before@example.org",
    ]
    assert [row.entry for row in IntakeFailure.objects.all()] == [json.dumps(malformed)]
    assert intake.signature_intake_backlog() == 0
    _post(client, petition, email="later@example.org")  # the next drains are not held up by it
    assert intake.signature_intake_drain() == 1
    assert Signature.objects.count() == 3


def test_a_batch_written_twice_after_a_crash_changes_nothing(client, petition):
    for email in ("one@example.org", "two@example.org"):
        _post(client, petition, email=email)
    entries = redis_client().lrange(intake.intake_key(), 0, -1)
    intake._write(entries)  # a drain that wrote the batch and died before removing it from the list
    assert Signature.objects.count() == 2
    assert intake.signature_intake_drain() == 2  # the next drain writes it again
    assert Signature.objects.count() == 2 and len(outbox_rows()) == 2


def test_an_entry_read_again_after_its_signer_withdrew_is_not_a_new_signature(client, petition):
    """A drain that committed and died before trimming leaves its batch for the next one; meanwhile the signer
    confirmed and withdrew. Replaying the entry must not sign them up again."""
    _post(client, petition, email="ann@example.org")
    entries = redis_client().lrange(intake.intake_key(), 0, -1)
    intake._write(entries)  # committed, not trimmed
    signature = Signature.objects.get()
    signature_confirm(token=signature_confirm_token(signature=signature))
    signature.refresh_from_db()
    signature_withdraw(token=signature_withdraw_token(signature=signature))
    mail_before = OutboundEmail.objects.count()
    assert intake.signature_intake_drain() == 1  # the replay
    signature.refresh_from_db()
    assert signature.state == SignatureState.WITHDRAWN and Signature.objects.count() == 1
    assert OutboundEmail.objects.count() == mail_before  # no new confirmation, no "already signed" note


def test_set_aside_entries_are_retried_from_the_admin_once_the_cause_is_fixed(client, petition):
    _post(client, petition, email="ann@example.org")
    entry = json.loads(redis_client().lindex(intake.intake_key(), 0))
    redis_client().delete(intake.intake_key())
    admin_client = Client()
    admin = staff_user(ORGANISERS)
    admin.is_superuser = admin.is_staff = True
    admin.save()
    admin_client.force_login(admin)
    IntakeFailure.objects.create(
        entry=json.dumps(entry | {"first_name": "x" * 500, "entry_id": uuid.uuid4().hex}), error="DataError"
    )
    fixable = IntakeFailure.objects.create(entry=json.dumps(entry), error="OperationalError: the disk was full")
    changelist = reverse("admin:signatures_intakefailure_changelist")
    page = admin_client.get(changelist)
    assert page.status_code == 200 and "the disk was full" in page.content.decode()
    answer = admin_client.post(
        changelist,
        {"action": "retry", "_selected_action": [str(row.pk) for row in IntakeFailure.objects.all()]},
        follow=True,
    )
    text = answer.content.decode()
    assert "1 signature(s) written" in text and "1 still fail" in text
    assert Signature.objects.filter(canonical_email="ann@example.org").count() == 1
    assert not IntakeFailure.objects.filter(pk=fixable.pk).exists()
    still = IntakeFailure.objects.get()
    assert still.attempts == 2 and "value too long" in still.error
    assert intake.signature_intake_failures_retry(failures=[still]) == (0, 1)


def test_receipts_and_set_aside_entries_are_purged_on_schedule(client, petition, settings):
    from datetime import timedelta

    from django.utils import timezone

    _post(client, petition, email="ann@example.org")
    intake.signature_intake_drain()
    IntakeFailure.objects.create(entry="{}", error="x")
    later = timezone.now() + timedelta(days=settings.VIGIL_SIGNATURE_PENDING_PURGE_DAYS, hours=1)
    assert intake.signature_intake_records_purge(now=timezone.now()) == (0, 0)
    assert intake.signature_intake_records_purge(now=later) == (1, 1)
    assert not IntakeReceipt.objects.exists() and not IntakeFailure.objects.exists()


def test_a_killed_drains_lock_runs_out_within_seconds_and_names_its_holder(client, petition, settings):
    _post(client, petition)
    client_ = redis_client()
    client_.set(intake._key("lock"), "web-1:4242:dead", px=settings.VIGIL_SIGN_INTAKE_LOCK_SECONDS * 1000)
    holder, left = intake.signature_intake_lock_holder()
    assert holder == "web-1:4242:dead" and 0 < left <= settings.VIGIL_SIGN_INTAKE_LOCK_SECONDS
    assert settings.VIGIL_SIGN_INTAKE_LOCK_SECONDS <= 2 * settings.VIGIL_SIGN_INTAKE_DRAIN_MAX_SECONDS
    assert intake.signature_intake_drain() == 0
    assert wait_for(lambda: intake.signature_intake_drain() == 1, timeout=settings.VIGIL_SIGN_INTAKE_LOCK_SECONDS + 2)
    assert intake.signature_intake_lock_holder() is None


def test_one_drain_at_a_time_and_only_the_lock_holder_trims(client, petition):
    _post(client, petition)
    client_ = redis_client()
    client_.set(intake._key("lock"), "another-drain", px=60_000)
    assert intake.signature_intake_drain() == 0
    assert not Signature.objects.exists() and intake.signature_intake_backlog() == 1
    trim = client_.register_script(intake._TRIM_SCRIPT)
    assert trim(keys=[intake.intake_key(), intake._key("lock")], args=["not-the-holder", 1, 60_000]) == 0
    assert intake.signature_intake_backlog() == 1
    client_.delete(intake._key("lock"))
    assert intake.signature_intake_drain() == 1


def test_the_dashboard_says_how_many_signatures_are_being_recorded(client, petition):
    from accounts.roles import ORGANISERS
    from petitions.models import MembershipRole
    from tests.factories import staff_user
    from tests.petitions.factories import MembershipFactory

    for email in ("one@example.org", "two@example.org"):
        _post(client, petition, email=email)
    organiser = staff_user(ORGANISERS)
    MembershipFactory(petition=petition, user=organiser, role=MembershipRole.OWNER)
    client.force_login(organiser)
    dashboard = reverse("petitions:organise_dashboard", args=[petition.slug])
    assert "2 signatures just received" in client.get(dashboard).content.decode()
    intake.signature_intake_drain()
    assert "just received" not in client.get(dashboard).content.decode()


@pytest.mark.django_db(transaction=True)
@override_settings(VIGIL_SIGN_RATE_PER_EMAIL="1000/h")
def test_fifty_simultaneous_submissions_of_one_person_through_the_intake_leave_one_row():
    petition = OpenPetitionFactory()
    barrier = threading.Barrier(50)
    answers = [None] * 50

    def submit(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[i] = _post(Client(REMOTE_ADDR=f"198.51.100.{i}"), petition, email="ANN@example.org").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert answers == [303] * 50
    assert intake.signature_intake_drain(batch_size=7) == 50  # several batches, the same person in each
    assert Signature.objects.filter(petition=petition).count() == 1
    assert len(outbox_rows()) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_drains_the_intake_and_sends_the_confirmation(celery_worker, monkeypatch):
    monkeypatch.setattr(intake, "_nudged_at", float("-inf"))  # a fresh web process: its first signature nudges
    petition = OpenPetitionFactory()
    assert _post(Client(), petition, email="intake@example.org").status_code == 303  # nudges the drain task
    assert wait_for(lambda: Signature.objects.filter(canonical_email="intake@example.org").exists(), timeout=30), (
        celery_worker.log()
    )
    assert wait_for(lambda: OutboundEmail.objects.filter(sent_at__isnull=False).count() == 1, timeout=30), (
        celery_worker.log()
    )
    assert [text for text in celery_worker.delivered_mail() if "intake@example.org" in text]
    assert intake.signature_intake_backlog() == 0


def test_worker_processes_lower_their_priority():
    code = (
        "import os, django; django.setup(); from config.celery import _lower_priority; "
        "before = os.nice(0); _lower_priority(); print(os.nice(0) - before)"
    )
    env = {"VIGIL_WORKER_NICENESS": "7", "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
    assert out.stdout.strip() == "7", out.stderr
