"""Through PgBouncer in transaction mode (what a busy deployment puts in front of PostgreSQL), the key flows work:
sign, drain, send, confirm, count, export, compile. In that mode a client's transactions may each run on another
server connection, and a server connection serves other clients in between, so nothing may outlive a transaction:
no session-level SET or advisory lock, no server-side cursor outside a transaction, no prepared statement kept.

The pool has two server connections: an export or a compile in progress holds one for its long read and one for
its progress (JobProgress), so a deployment's pool must allow two per running job, on top of the web's."""

import psycopg2
import pytest
from django.conf import settings
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test import Client
from django.urls import reverse

import core.mail as core_mail
import signatures.services.intake as intake
from core.services.outbox import outbound_email_pump
from deliverables.models import JobState
from deliverables.services.letters import letter_compile_request, letter_compile_run
from deliverables.services.packets import packet_export_request, packet_export_run
from signatures.models import PetitionTally, Signature, SignatureState
from signatures.services.counts import signature_counts_flush
from tests.deliverables.factories import OpenLetterFactory, SignOnFactory, organiser_of
from tests.petitions.factories import OpenPetitionFactory
from tests.signatures.helpers import confirm_via_pages, form_data, outbox_rows
from tests.throwaway import ThrowawayPgBouncer

pytestmark = pytest.mark.django_db(transaction=True)

SIGNERS = ["ann@example.org", "bob@example.org", "cat@example.org"]


class NeighbourMailServer(EmailBackend):
    """A mail server (Django's in-memory one) that, while the pump hands it a message, lets another client of the
    pooler look at the server connection the pump has just used: what the pump left set there, that client gets."""

    pooler_url = ""
    seen: list[str] = []

    def send_messages(self, messages):
        neighbour = psycopg2.connect(self.pooler_url)
        try:
            with neighbour.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                self.seen.append(cursor.fetchone()[0])
        finally:
            neighbour.close()
        return super().send_messages(messages)


@pytest.fixture(scope="module")
def pooler(tmp_path_factory):
    server_port = int(settings.DATABASES["default"].get("PORT") or 5432)
    with ThrowawayPgBouncer(tmp_path_factory.mktemp("pgbouncer"), server_port=server_port, pool_size=2) as bouncer:
        yield bouncer


@pytest.fixture
def through_pooler(pooler, transactional_db):
    """Django's connection goes through the pooler for the test (the test database is created and flushed
    directly, as a deployment's migrations would be)."""
    connection.close()
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(pooler.port))
    yield pooler
    connection.close()
    connection.settings_dict.update(saved)


def _server_connections_state(pooler) -> list[tuple]:
    """What each of the pool's server connections holds now: two clients, each in a transaction at the same time,
    are given the pool's two server connections."""
    database = settings.DATABASES["default"]["NAME"]
    clients = [psycopg2.connect(pooler.url(database)) for _ in range(2)]
    try:
        seen = []
        for client in clients:
            with client.cursor() as cursor:
                cursor.execute("SELECT current_setting('synchronous_commit'), pg_backend_pid()")
                setting, pid = cursor.fetchone()
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s", [pid])
                locks = cursor.fetchone()[0]
                cursor.execute("SELECT count(*) FROM pg_cursors")  # this session's open cursors
                seen.append((setting, pid, locks, cursor.fetchone()[0]))
        return seen
    finally:
        for client in clients:
            client.close()


@pytest.fixture(autouse=True)
def _no_nudges(monkeypatch):
    """The drain and the pump run here, in the test, not in the suite's worker (which a nudge would wake)."""
    monkeypatch.setattr(intake, "_nudged_at", float("inf"))
    monkeypatch.setattr(core_mail, "_pump_nudged_at", float("inf"))


def test_sign_drain_confirm_count_export_and_compile_through_pgbouncer(through_pooler, settings):
    settings.VIGIL_SIGN_INTAKE = True
    petition = OpenPetitionFactory()
    owner = organiser_of(petition)
    client = Client()

    for email in SIGNERS:
        response = client.post(reverse("petitions:sign", args=[petition.slug]), form_data(email=email))
        assert response.status_code == 303
    assert intake.signature_intake_drain() == 3
    assert outbound_email_pump() == 3  # its claims and stamps skip the disk wait, per statement
    for row in outbox_rows():
        confirm_via_pages(client, row)
    assert Signature.objects.filter(state=SignatureState.CONFIRMED).count() == 3
    assert signature_counts_flush() == 3  # under its transaction-level advisory lock
    assert PetitionTally.objects.get(petition=petition).confirmed == 3

    export = packet_export_request(petition=petition, kind="csv", include_emails=False, by=owner, role="owner")
    export = packet_export_run(export_id=export.pk)  # a server-side cursor, inside its transaction
    assert export.state == JobState.DONE and export.rows_total == 3

    letter = OpenLetterFactory(petition=petition)
    SignOnFactory(letter=letter)
    compiled = letter_compile_run(compile_id=letter_compile_request(letter=letter, by=owner, queue=False).pk)
    assert compiled.state == JobState.DONE and compiled.signatory_count == 1

    # All of it went through the pooler, and nothing was left on its server connections for the next client.
    assert connection.connection.info.port == through_pooler.port
    state = _server_connections_state(through_pooler)
    assert len({pid for _setting, pid, _locks, _cursors in state}) == 2
    assert [(setting, locks, cursors) for setting, _pid, locks, cursors in state] == [("on", 0, 0), ("on", 0, 0)]


def test_the_pump_leaves_nothing_set_for_the_next_client_of_its_server_connection(through_pooler, settings):
    """The pump's claims and stamps skip the wait for the disk; another client served in the middle of its run, by
    the server connection it has just used, must still wait for the disk."""
    settings.VIGIL_EMAIL_DELIVERY_BACKEND = f"{__name__}.NeighbourMailServer"
    NeighbourMailServer.pooler_url = through_pooler.url(settings.DATABASES["default"]["NAME"])
    NeighbourMailServer.seen = []
    petition = OpenPetitionFactory()
    for email in SIGNERS:
        assert Client().post(reverse("petitions:sign", args=[petition.slug]), form_data(email=email)).status_code == 303
    assert outbound_email_pump() == 3
    assert NeighbourMailServer.seen == ["on", "on", "on"]
