"""A database outage, in-process: signing goes on from the snapshot, pages that need the database answer 503 with
Retry-After (never 500), cached pages are still served, and the outage is logged once, not once per request.
The real thing (a PostgreSQL stopped under load) is drilled in tests/drills."""

import contextlib
import logging

import pytest
from django.db import connection
from django.urls import reverse

import signatures.services.intake as intake
from petitions import selectors
from signatures.models import Signature
from signatures.ratelimits import redis_client
from tests.petitions.factories import OpenPetitionFactory
from tests.signatures.helpers import form_data

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def database_down():
    connection.close()
    real_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port


@pytest.fixture
def intake_on(settings, monkeypatch):
    settings.VIGIL_SIGN_INTAKE = True
    monkeypatch.setattr(intake, "_nudged_at", float("inf"))  # the suite's worker must not drain mid-test
    yield
    redis_client().delete(intake.intake_key())


@pytest.mark.parametrize("snapshot", ["this process", "shared through the cache"])
def test_signing_goes_on_while_the_database_is_down(client, intake_on, caplog, snapshot, settings):
    petition = OpenPetitionFactory()
    sign = reverse("petitions:sign", args=[petition.slug])
    settings.VIGIL_SIGN_PETITION_CACHE_SECONDS = 0  # each post tries the database again
    selectors.petition_for_signing(slug=petition.slug)  # what any earlier signature left behind
    if snapshot == "shared through the cache":
        selectors._sign_snapshots.clear()  # a process started during the outage
    with database_down(), caplog.at_level(logging.WARNING):
        answers = [client.post(sign, form_data(email=f"s{n}@example.org")).status_code for n in range(5)]
    assert answers == [303] * 5
    assert intake.signature_intake_backlog() == 5
    outage_lines = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(outage_lines) == 1
    assert intake.signature_intake_drain() == 5  # the database is back: the waiting signatures are written
    assert Signature.objects.filter(petition=petition).count() == 5


def test_signature_rules_last_read_go_on_applying_while_the_database_is_down(client, intake_on, settings):
    from signatures.services import rules

    petition = OpenPetitionFactory()
    sign = reverse("petitions:sign", args=[petition.slug])
    settings.VIGIL_SIGN_PETITION_CACHE_SECONDS = 0
    rules.signature_rules_forget()
    rule = rules.signature_rule_add(petition=petition, by=None, kind="domain", action="mark", value="farm.example")
    refused = rules.signature_rule_add(petition=petition, by=None, kind="domain", action="refuse", value="no.example")
    selectors.petition_for_signing(slug=petition.slug)
    assert client.post(sign, form_data(email="first@example.org")).status_code == 303  # the rules are read
    with database_down():
        held = client.post(sign, form_data(email="bot@farm.example"))
        kept_out = client.post(sign, form_data(email="bot@no.example"))
    # A refusal shows the form again, which needs the database: the outage page, as for any invalid form meanwhile.
    assert held.status_code == 303 and kept_out.status_code == 503
    assert intake.signature_intake_drain() == 2
    assert Signature.objects.get(canonical_email="bot@farm.example").marked_by_rule == rule
    assert not Signature.objects.filter(canonical_email="bot@no.example").exists()
    rules.signature_rule_remove(rule=refused, by=None)
    rules.signature_rules_forget()


def test_a_page_that_needs_the_database_answers_503_with_retry_after(client, caplog, settings):
    settings.VIGIL_PAGE_CACHE = False
    petition = OpenPetitionFactory()
    with database_down(), caplog.at_level(logging.WARNING):
        pages = [client.get(reverse("petitions:detail", args=[petition.slug])) for _ in range(3)]
    for page in pages:
        assert page.status_code == 503
        assert page["Retry-After"] == str(settings.VIGIL_OUTAGE_RETRY_AFTER_SECONDS)
        assert "back in a moment" in page.content.decode()
    assert len([r for r in caplog.records if "cannot be reached" in r.getMessage()]) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and "Internal Server Error" in r.getMessage()]
    with caplog.at_level(logging.WARNING):
        assert client.get(reverse("petitions:detail", args=[petition.slug])).status_code == 200
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_cached_pages_are_served_while_the_database_is_down_even_out_of_date(client):
    from core import pagecache

    petition = OpenPetitionFactory()
    url = reverse("petitions:detail", args=[petition.slug])
    first = client.get(url)
    assert first.status_code == 200
    pagecache.content_changed()  # an edit made the copy out of date just before the outage
    with database_down():
        during = client.get(url)
    assert during.status_code == 200 and petition.title in during.content.decode()


def test_a_middleware_that_meets_the_outage_answers_503_too():
    """A signed-in visitor's session is read by a middleware (the staff second-factor check), before any view."""
    from django.test import Client

    from tests.factories import VerifiedUserFactory

    client = Client(raise_request_exception=False)
    client.force_login(VerifiedUserFactory())
    with database_down():
        page = client.get(reverse("petitions:organise_index"))
    assert page.status_code == 503 and page["Retry-After"]


def test_beat_tasks_wait_quietly_while_the_database_is_down(caplog):
    """The drain, the pump and the count flush run every second or two: during an outage each run returns at once,
    and the process logs the outage once, not a traceback a run."""
    from core.tasks import outbound_email_pump_task
    from signatures.tasks import signature_counts_flush_task, signature_intake_drain_task

    with database_down(), caplog.at_level(logging.INFO):
        for _ in range(3):
            assert outbound_email_pump_task.run() == 0
            assert signature_counts_flush_task.run() == 0
    lines = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(lines) == 1 and "background work waits" in lines[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]
    assert signature_intake_drain_task.run() >= 0  # the database is back: it runs
