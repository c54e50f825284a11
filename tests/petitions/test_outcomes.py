"""The outcome and the decision maker's response: recorded by organisers, shown on the petition's page (a banner,
the answer in full) and beside the articles about it; refused when incomplete, hostile or on a petition not public."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from petitions.models import MembershipRole, Petition, PetitionOutcome
from petitions.services.editing import petition_save
from petitions.services.errors import PetitionStateError
from petitions.services.outcomes import OutcomeInvalid, petition_outcome_set, petition_response_record
from tests.deliverables.factories import organiser_of
from tests.factories import PublishedArticleFactory
from tests.petitions.factories import (
    ClosedPetitionFactory,
    DraftPetitionFactory,
)

pytestmark = pytest.mark.django_db


def test_an_organiser_records_the_response_and_the_page_shows_it_first(client, petition):
    client.force_login(organiser_of(petition, role=MembershipRole.ORGANISER))
    page = reverse("petitions:organise_outcome", args=[petition.slug])
    data = {"form": "response", "answered_by": "Dana Chief, chief executive", "answered_on": "2026-11-20",
            "text": "<p>We will review our sales.</p><script>alert(1)</script>",
            "link": "https://megacorp.example/statement"}  # fmt: skip
    assert client.post(page, data).status_code == 302
    petition.refresh_from_db()
    assert petition.outcome == PetitionOutcome.RESPONDED and "<script>" not in petition.response_text
    html = Client().get(petition.get_absolute_url()).content.decode()
    assert "The decision maker has responded." in html
    assert "We will review our sales." in html and "Dana Chief, chief executive" in html
    form = f'action="{reverse("petitions:sign", args=[petition.slug])}"'
    assert html.index("The decision maker has responded.") < html.index(form)  # above the form
    assert 'href="https://megacorp.example/statement"' in html


def test_a_victory_puts_a_banner_on_the_petition_and_beside_its_articles(client, petition):
    article = PublishedArticleFactory(related_petition=petition)
    petition_outcome_set(petition=petition, outcome=PetitionOutcome.VICTORY, note="Megacorp stopped selling.")
    for path in (petition.get_absolute_url(), article.get_absolute_url()):
        html = client.get(path).content.decode()
        assert "Victory!" in html and "Megacorp stopped selling." in html, path
    petition_outcome_set(petition=petition, outcome="")  # cleared
    assert "Victory!" not in client.get(article.get_absolute_url()).content.decode()


def test_a_response_keeps_an_outcome_already_set(petition):
    petition_outcome_set(petition=petition, outcome=PetitionOutcome.VICTORY)
    petition_response_record(
        petition=petition, text="<p>Fine.</p>", answered_by="Dana", answered_on=timezone.localdate()
    )
    petition.refresh_from_db()
    assert petition.outcome == PetitionOutcome.VICTORY and petition.response_by == "Dana"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "<script>x()</script>"}, "text"),
        ({"answered_by": "  "}, "answered_by"),
        ({"answered_on": None}, "answered_on"),
        ({"link": "javascript:alert(1)"}, "link"),
    ],
)
def test_an_incomplete_or_hostile_response_is_refused_and_nothing_saved(petition, changes, field):
    given = {"text": "<p>Yes.</p>", "answered_by": "Dana", "answered_on": timezone.localdate(), "link": ""} | changes
    with pytest.raises(OutcomeInvalid) as refused:
        petition_response_record(petition=petition, **given)
    assert field in refused.value.errors
    petition.refresh_from_db()
    assert (petition.response_text, petition.outcome) == ("", "")


def test_an_answer_dated_tomorrow_is_refused(petition):
    with pytest.raises(OutcomeInvalid, match="today or earlier"):
        petition_response_record(petition=petition, text="<p>Yes.</p>", answered_by="Dana",
                                 answered_on=timezone.localdate() + timedelta(days=1))  # fmt: skip


def test_an_open_petition_cannot_have_ended_without_a_response(petition):
    with pytest.raises(OutcomeInvalid):
        petition_outcome_set(petition=petition, outcome=PetitionOutcome.NO_RESPONSE)
    closed = ClosedPetitionFactory()
    petition_outcome_set(petition=closed, outcome=PetitionOutcome.NO_RESPONSE)
    closed.refresh_from_db()
    assert closed.outcome == PetitionOutcome.NO_RESPONSE


def test_a_petition_that_is_not_public_has_no_outcome():
    with pytest.raises(PetitionStateError):
        petition_outcome_set(petition=DraftPetitionFactory(), outcome=PetitionOutcome.VICTORY)


def test_an_edit_opened_before_the_outcome_does_not_erase_it(petition):
    stale = Petition.objects.get(pk=petition.pk)
    petition_outcome_set(petition=petition, outcome=PetitionOutcome.VICTORY, note="Won.")
    stale.title = "A new title"
    petition_save(petition=stale)
    petition.refresh_from_db()
    assert (petition.title, petition.outcome, petition.outcome_note) == ("A new title", "victory", "Won.")


def test_a_viewer_cannot_record_an_outcome(client, petition):
    client.force_login(organiser_of(petition, role=MembershipRole.VIEWER))
    response = client.post(reverse("petitions:organise_outcome", args=[petition.slug]),
                           {"form": "outcome", "outcome": "victory"})  # fmt: skip
    assert response.status_code in (403, 404)
    petition.refresh_from_db()
    assert petition.outcome == ""


def test_the_page_shows_a_refusal_at_its_field(client, petition):
    client.force_login(organiser_of(petition, role=MembershipRole.ORGANISER))
    response = client.post(reverse("petitions:organise_outcome", args=[petition.slug]),
                           {"form": "outcome", "outcome": "no_response"})  # fmt: skip
    assert response.status_code == 400
    assert "close it before" in response.content.decode()


def test_the_response_may_come_as_a_pdf_kept_privately_and_offered_for_download(client, petition, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.storage import private_storage

    settings.VIGIL_PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VIGIL_RESPONSE_DOCUMENT_MAX_BYTES = 2048
    client.force_login(organiser_of(petition))
    url = reverse("petitions:organise_outcome", args=[petition.slug])
    form = {"form": "response", "answered_by": "The CEO", "answered_on": "2026-11-20", "text": "<p>No.</p>"}
    pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

    def upload(content: bytes, name: str = "reply.pdf"):
        return SimpleUploadedFile(name, content, content_type="application/pdf")

    for content, message in [(b"<html>not a pdf</html>", "must be a PDF"), (pdf[:20], "damaged or incomplete"),
                             (pdf + b" " * 3000, "over 0 MB")]:  # fmt: skip
        response = client.post(url, {**form, "document": upload(content)})
        assert response.status_code == 400 and message in response.content.decode(), message
    assert client.post(url, {**form, "document": upload(pdf)}).status_code == 302
    petition.refresh_from_db()
    first = petition.response_document
    assert first.startswith(f"responses/{petition.pk}/") and private_storage().exists(first)
    assert not any((tmp_path / "media").rglob("*.pdf"))  # never among the public files
    download = Client().get(reverse("petitions:response_document", args=[petition.slug]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == pdf
    page = Client().get(petition.get_absolute_url()).content.decode()
    assert reverse("petitions:response_document", args=[petition.slug]) in page

    assert client.post(url, {**form, "document": upload(pdf.replace(b"1.7", b"1.6"))}).status_code == 302
    petition.refresh_from_db()
    assert petition.response_document != first and not private_storage().exists(first)  # the old one went
    assert client.post(url, {**form, "remove_document": "on"}).status_code == 302
    petition.refresh_from_db()
    assert petition.response_document == ""
    assert Client().get(reverse("petitions:response_document", args=[petition.slug])).status_code == 404
