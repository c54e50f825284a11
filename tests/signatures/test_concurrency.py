"""Fifty people, or one person fifty times at once: the unique constraint decides, and every answer is the same."""

import threading

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from signatures.models import Signature
from tests.petitions.factories import OpenPetitionFactory
from tests.signatures.helpers import form_data, outbox_rows

pytestmark = pytest.mark.django_db(transaction=True)


def _submit_together(petition, emails: list[str]) -> list[tuple[int, str]]:
    barrier = threading.Barrier(len(emails))
    answers: list = [None] * len(emails)

    def submit(i: int) -> None:
        client = Client(REMOTE_ADDR=f"198.51.100.{i % 250}")
        try:
            barrier.wait(timeout=30)
            response = client.post(reverse("petitions:sign", args=[petition.slug]), form_data(email=emails[i]))
            answers[i] = (response.status_code, response.get("Location", ""))
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(emails))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@override_settings(VIGIL_SIGN_RATE_PER_EMAIL="1000/h")  # the per-e-mail limit would answer 429 after ten
def test_fifty_simultaneous_submissions_of_one_person_leave_one_row_and_fifty_polite_answers():
    petition = OpenPetitionFactory()
    spellings = ["ann.smith@gmail.com", "AnnSmith@googlemail.com", "a.n.n.smith+sign@gmail.com", "ANNSMITH@GMAIL.COM"]
    answers = _submit_together(petition, [spellings[i % len(spellings)] for i in range(50)])
    thanks = reverse("petitions:thanks", args=[petition.slug])
    assert answers == [(303, thanks)] * 50
    assert Signature.objects.filter(petition=petition).count() == 1
    assert Signature.objects.get().canonical_email == "annsmith@gmail.com"
    rows = outbox_rows()
    # One confirmation; the 49 repeats came within the notice interval, so the mailbox gets nothing more.
    assert [row.subject for row in rows] == ["[Vigil] Confirm your signature"]


def test_fifty_different_people_at_once_are_fifty_rows():
    petition = OpenPetitionFactory()
    answers = _submit_together(petition, [f"person{i}@example.org" for i in range(50)])
    assert {status for status, _ in answers} == {303}
    assert Signature.objects.filter(petition=petition).count() == 50
    assert len(outbox_rows()) == 50
