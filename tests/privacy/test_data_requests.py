"""A person asks, by e-mail address, for a copy of what is held under it or for its erasure. The page answers the
same whether or not the address is known; only the address's owner gets anything."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.models import OutboundEmail
from core.services.outbox import outbound_email_pump
from signatures.models import Signature, SignatureState
from tests.petitions.factories import OpenPetitionFactory
from tests.privacy.traces import database_traces
from tests.signatures.helpers import sign

pytestmark = pytest.mark.django_db

KNOWN, SURNAME = "Known.Signer@Example.org", "Featherstonehaugh"


@pytest.fixture
def signed():
    petition = OpenPetitionFactory(title="Stop face recognition")
    sign(petition, KNOWN, last_name=SURNAME)
    OutboundEmail.objects.all().delete()  # the confirmation: not what these tests look at
    return petition


def _ask(client, email, kind="copy"):
    return client.post(reverse("petitions:my_data"), {"email": email, "kind": kind})


def _mail_to(address: str) -> list[OutboundEmail]:
    return [row for row in OutboundEmail.objects.all() if address.lower() in [a.lower() for a in row.to]]


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_the_known_one_mail(signed):
    known = _ask(Client(), KNOWN)
    unknown = _ask(Client(), "nobody.here@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    [copy] = _mail_to(KNOWN)
    assert "Stop face recognition" in copy.body_text and SURNAME in copy.body_text
    assert not _mail_to("nobody.here@example.org")


def test_erasure_from_the_e_mailed_link_leaves_nothing_under_the_address(signed):
    client = Client()
    _ask(client, "known.signer@example.org", kind="erase")
    [row] = _mail_to(KNOWN)
    assert outbound_email_pump() == 0  # not a pump row: the task sends it; the link is in the stored body
    link = re.search(r"https?://[^/\s]+(/your-data/erase/\S+/)", row.body_text).group(1)
    page = client.get(link)
    assert page.status_code == 200 and b"Erase my data" in page.content
    assert Signature.objects.get().anonymised_at is None  # a GET (a mail scanner) changes nothing
    done = client.post(link)
    assert done.status_code == 200 and b"1 record was erased" in done.content
    signature = Signature.objects.get()
    assert signature.state == SignatureState.WITHDRAWN and signature.anonymised_at
    assert database_traces("known.signer") == [] and database_traces(SURNAME) == []
    assert b"nothing left to erase" in client.post(link).content  # pressed twice


@pytest.mark.parametrize("tamper", [lambda t: t[:-2] + "xx", lambda t: "not-a-token"])
def test_a_damaged_erasure_link_erases_nothing(signed, tamper):
    from django.core import signing

    from signatures.services.data_requests import ERASE_SALT

    token = signing.TimestampSigner(salt=ERASE_SALT).sign("known.signer@example.org")
    answer = Client().post(reverse("petitions:my_data_erase", args=[tamper(token)]))
    assert answer.status_code == 410
    assert Signature.objects.get().anonymised_at is None


def test_an_old_erasure_link_erases_nothing(signed, time_machine, settings):
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _ask(Client(), KNOWN, kind="erase")
    link = re.search(r"(/your-data/erase/\S+/)", _mail_to(KNOWN)[0].body_text).group(1)
    time_machine.move_to(start + timedelta(seconds=settings.VIGIL_DATA_ERASE_LINK_MAX_AGE + 60), tick=False)
    assert Client().post(link).status_code == 410
    assert Signature.objects.get().anonymised_at is None


def test_asking_too_often_is_refused_with_the_form_kept(signed, settings):
    settings.VIGIL_DATA_REQUEST_RATE = "2/h"
    client = Client()
    answers = [_ask(client, f"person{n}@example.org").status_code for n in range(3)]
    assert answers == [200, 200, 429]


def test_a_bad_address_gets_a_clear_message(signed):
    answer = _ask(Client(), "not an address")
    assert answer.status_code == 400 and b"e-mail" in answer.content.lower()
    assert not mail.outbox


def test_a_withdrawal_link_works_for_long_but_not_for_ever(signed, time_machine, settings):
    from datetime import timedelta

    from django.utils import timezone

    from signatures.services.signing import signature_withdraw_token

    start = timezone.now()
    time_machine.move_to(start, tick=False)
    signature = Signature.objects.get()
    link = reverse("petitions:signature_withdraw", args=[signature_withdraw_token(signature=signature)])
    time_machine.move_to(start + timedelta(seconds=settings.VIGIL_SIGNATURE_WITHDRAW_MAX_AGE + 60), tick=False)
    answer = Client().post(link)
    assert answer.status_code == 410 and "Your data" in answer.content.decode()
    assert Signature.objects.get().state != SignatureState.WITHDRAWN
    time_machine.move_to(start + timedelta(days=300), tick=False)
    assert Client().post(link).status_code == 200
    assert Signature.objects.get().state == SignatureState.WITHDRAWN
