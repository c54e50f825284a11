"""The data lifecycle, tried as a signer would meet it: the personal values are searched for everywhere afterwards
(every text and JSON column of every table, every file), not only in the fields expected to hold them."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import OutboundEmail
from core.privacy import privacy_sweep, registry, registry_markdown
from core.services.outbox import outbound_email_pump
from deliverables.models import PrivateDownload
from petitions.services.lifecycle import petition_close
from signatures.models import Signature, SignatureState
from signatures.services.signing import signature_withdraw, signature_withdraw_token
from tests.conftest import ROOT
from tests.petitions.factories import OpenPetitionFactory
from tests.privacy.traces import database_traces, file_traces
from tests.signatures.helpers import confirm_via_pages, form_data, sign

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL, SURNAME = "Privacy.Person+vigil@Example.org", "Quintavalle"


@pytest.fixture(autouse=True)
def _no_pump_nudge(monkeypatch):
    """Signing nudges the pump task; the suite's real worker must not send these rows behind the test's back."""
    import core.mail

    monkeypatch.setattr(core.mail, "_pump_nudged_at", float("inf"))


def _traces() -> list[str]:
    return [
        *database_traces("privacy.person"),
        *database_traces("privacyperson"),
        *database_traces(SURNAME),
        *file_traces("privacy.person"),
        *file_traces(SURNAME),
    ]


def test_a_signer_who_signs_confirms_and_waits_800_days_leaves_no_trace(time_machine):
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    petition = OpenPetitionFactory()
    client = Client()
    answer = client.post(reverse("petitions:sign", args=[petition.slug]),
                         form_data(email=EMAIL, last_name=SURNAME))  # fmt: skip
    assert answer.status_code == 303
    assert outbound_email_pump() == 1
    [row] = OutboundEmail.objects.all()
    row.body_text = mail.outbox[0].body
    confirm_via_pages(client, row)
    assert Signature.objects.get().state == SignatureState.CONFIRMED
    assert _traces(), "the search finds the signer before the rules run"
    petition_close(petition=petition)
    for days in (1, 15, 40, 200, 400, 800):
        time_machine.move_to(start + timedelta(days=days), tick=False)
        privacy_sweep()
        call_command("privacy_sweep")
    assert _traces() == []


def test_sent_mail_is_scrubbed_after_the_retention_and_only_then(time_machine, settings):
    settings.VIGIL_OUTBOX_RETENTION_DAYS = 5  # shorter than the purge of an unconfirmed signature, which scrubs too
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    petition = OpenPetitionFactory()
    sign(petition, EMAIL, last_name=SURNAME)
    assert outbound_email_pump() == 1
    time_machine.move_to(start + timedelta(days=settings.VIGIL_OUTBOX_RETENTION_DAYS - 1), tick=False)
    privacy_sweep()
    assert [address.lower() for address in OutboundEmail.objects.get().to] == [EMAIL.lower()]
    time_machine.move_to(start + timedelta(days=settings.VIGIL_OUTBOX_RETENTION_DAYS + 1), tick=False)
    privacy_sweep()
    row = OutboundEmail.objects.get()
    assert row.scrubbed_at is not None and row.to == [] and row.render_context == {} and row.subject == ""
    assert row.sent_at is not None and row.message_id  # what happened stays: when it went, which message
    assert not [trace for trace in database_traces("privacy.person") if "OutboundEmail" in trace]


def test_withdrawing_scrubs_the_mail_written_to_the_signer_at_once():
    petition = OpenPetitionFactory()
    result = sign(petition, EMAIL, last_name=SURNAME)
    signature = Signature.objects.get(pk=result.signature_id)
    signature_withdraw(token=signature_withdraw_token(signature=signature))
    row = OutboundEmail.objects.get()
    assert row.scrubbed_at is not None and row.to == []
    assert row.failed_at is not None  # it was not sent yet: it never will be
    assert outbound_email_pump() == 0 and mail.outbox == []


def test_an_unconfirmed_signature_purged_takes_its_mail_with_it(time_machine, settings):
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    sign(OpenPetitionFactory(), EMAIL, last_name=SURNAME)
    time_machine.move_to(start + timedelta(days=settings.VIGIL_SIGNATURE_PENDING_PURGE_DAYS + 1), tick=False)
    privacy_sweep()
    assert not Signature.objects.exists()
    assert database_traces("privacy.person") == [] and database_traces(SURNAME) == []


def test_download_log_addresses_are_pruned_and_the_rest_kept(time_machine, settings):
    from tests.factories import VerifiedUserFactory

    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    petition = OpenPetitionFactory()
    entry = PrivateDownload.objects.create(petition=petition, user=VerifiedUserFactory(), kind="packet",
                                           object_id=1, file_name="p.csv", ip_hash="a" * 64)  # fmt: skip
    time_machine.move_to(start + timedelta(days=settings.VIGIL_DOWNLOAD_LOG_ADDRESS_DAYS + 1), tick=False)
    privacy_sweep()
    entry.refresh_from_db()
    assert entry.ip_hash == "" and entry.file_name == "p.csv" and entry.user_id


def test_the_report_counts_what_is_held_and_names_each_rule():
    from io import StringIO

    sign(OpenPetitionFactory(), EMAIL, last_name=SURNAME)
    out = StringIO()
    call_command("privacy_report", stdout=out)
    text = out.getvalue()
    assert "signatures-pending: 1 record(s), oldest" in text and "outbox: 1 record(s)" in text
    assert len(text.strip().splitlines()) == len(registry())


def test_privacy_sweep_refuses_a_time_without_an_offset():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="offset"):
        call_command("privacy_sweep", "--now", "2027-01-31T12:00:00")


def test_the_readme_shows_the_registry_as_it_is():
    assert registry_markdown() in (ROOT / "README.md").read_text()


def test_every_rule_and_count_in_the_registry_can_be_run():
    from django.conf import settings
    from django.utils.module_loading import import_string

    for item in registry():
        for path in (item.apply, item.holding):
            if path:
                assert callable(import_string(path)), path
        for name in (part.split()[0].strip("`") for part in item.setting.split(",") if part.strip()):
            assert hasattr(settings, name), f"{item.name}: no setting {name}"
