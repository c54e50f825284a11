"""Sign-on letters: signing through the public form, confirmation, review, versions, compiling, and bad input."""

import hashlib
import io
import re
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from core.models import OutboundEmail
from deliverables.models import JobState, LetterKind, LetterVersion, SignOn, SignOnState
from deliverables.private_files import private_path
from deliverables.services.letters import LetterError, letter_compile_request, letter_compile_run, letter_save
from deliverables.services.signons import signon_logo_render, signon_review
from tests.deliverables.factories import OpenLetterFactory, ShareholderSignOnFactory, SignOnFactory, organiser_of

pytestmark = pytest.mark.django_db


def _png(size=(120, 60), color=(30, 90, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _bomb() -> bytes:
    """A tiny PNG whose header claims 60,000 × 60,000 pixels."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )


def _org(**overrides) -> dict:
    data = {
        "name": "Open Rights Group",
        "website": "https://www.openrights.example/",
        "signer_name": "Ada Lee",
        "signer_role": "Director",
        "email": "ada@openrights.example",
    }
    data.update(overrides)
    return data


def _confirm_link(email: str) -> str:
    row = OutboundEmail.objects.filter(to__contains=[email]).latest("pk")
    return re.search(r"https?://[^/\s]+(/petitions/letters/confirm/[^\s]+/)", row.body_text).group(1)


def test_an_organisation_signs_confirms_is_verified_and_only_then_is_public(client, petition):
    letter = OpenLetterFactory(petition=petition)
    url = letter.get_absolute_url()
    response = client.post(url, {**_org(), "logo": SimpleUploadedFile("logo.png", _png(), "image/png")})
    assert response.status_code == 200, response.content.decode()[:3000]
    signon = SignOn.objects.get()
    assert signon.state == SignOnState.PENDING and signon.canonical_website == "openrights.example"
    assert signon.letter_version == letter.current_version and signon.logo
    assert "Open Rights Group" not in client.get(url).content.decode()
    link = _confirm_link("ada@openrights.example")
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 200
    signon.refresh_from_db()
    assert signon.state == SignOnState.CONFIRMED
    assert "Open Rights Group" not in client.get(url).content.decode()
    organiser = organiser_of(petition)
    client.force_login(organiser)
    review = reverse("deliverables:organise_signon_review", args=[petition.slug, letter.slug, signon.pk])
    client.post(review, {"decision": "verify", "note": "Known to us"}, follow=True)
    signon.refresh_from_db()
    assert signon.state == SignOnState.VERIFIED and signon.reviewed_by == organiser
    html = client.get(url).content.decode()
    assert "Open Rights Group" in html and "ada@openrights.example" not in html
    client.post(review, {"decision": "reject", "note": "Not a real organisation"}, follow=True)
    assert "Open Rights Group" not in client.get(url).content.decode()


@pytest.mark.parametrize(
    "logo, message",
    [
        (SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", "image/png"), "not an image"),
        (SimpleUploadedFile("bomb.png", _bomb(), "image/png"), "pixels"),
    ],
)
def test_a_logo_that_is_not_an_image_or_is_a_bomb_is_refused(client, petition, logo, message):
    letter = OpenLetterFactory(petition=petition)
    response = client.post(letter.get_absolute_url(), {**_org(), "logo": logo})
    assert response.status_code == 400 and message in response.content.decode()
    assert not SignOn.objects.exists()


def test_an_organisation_cannot_sign_twice_by_email_or_by_website(client, petition):
    """The page answers a repeat as it answers a first sign-on (see test_signon_form.py); the e-mail says why."""
    letter = OpenLetterFactory(petition=petition)
    url = letter.get_absolute_url()
    assert client.post(url, _org()).status_code == 200
    again = client.post(url, _org(website="https://other.example", name="Another name", email="ADA@openrights.example"))
    assert again.status_code == 200 and "already signed" not in again.content.decode()
    same_site = client.post(url, _org(website="http://openrights.example", email="someone@else.example"))
    assert same_site.status_code == 200 and "already signed" not in same_site.content.decode()
    assert SignOn.objects.count() == 1
    note = OutboundEmail.objects.filter(to__contains=["ada@openrights.example"]).latest("pk")
    assert "already signed" in note.body_text
    [note] = OutboundEmail.objects.filter(to__contains=["someone@else.example"])
    assert "website has already signed" in note.body_text.replace("\n", " ")


def test_names_of_500_characters_are_refused_and_invisible_marks_removed(client, petition):
    letter = OpenLetterFactory(petition=petition)
    response = client.post(letter.get_absolute_url(), _org(name="x" * 500))
    assert response.status_code == 400 and "at most 200 characters" in response.content.decode()
    client.post(letter.get_absolute_url(), _org(name='\u202eGroup\u200f =HYPERLINK("x")'))
    assert SignOn.objects.get().name == 'Group =HYPERLINK("x")'


def test_a_shareholder_signs_with_a_holding_and_a_private_proof(client, petition):
    letter = OpenLetterFactory(petition=petition, kind=LetterKind.SHAREHOLDER)
    proof = SimpleUploadedFile("proof.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")
    data = {
        "name": "Pension Fund of the North",
        "holding_kind": "shares",
        "shares": "1500",
        "signer_name": "Kim",
        "email": "kim@fund.example",
        "proof": proof,
    }
    assert client.post(letter.get_absolute_url(), data).status_code == 200
    signon = SignOn.objects.get()
    assert signon.shares == 1500 and signon.proof_mimetype == "application/pdf"
    assert private_path(signon.proof_file).read_bytes().startswith(b"%PDF-")
    proof_url = reverse("deliverables:organise_signon_proof", args=[petition.slug, letter.slug, signon.pk])
    assert client.get(proof_url).status_code == 302  # not signed in
    client.force_login(organiser_of(petition))
    response = client.get(proof_url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize(
    "proof, message",
    [
        (SimpleUploadedFile("proof.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"), "must be a PDF or an image"),
        (SimpleUploadedFile("proof.pdf", b"%PDF-1.4\n" + b"0" * 2048, "application/pdf"), "damaged"),
        (SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 6000 + b"\n%%EOF", "application/pdf"), "over"),
    ],
)
def test_a_proof_that_is_not_a_pdf_or_image_or_too_big_is_refused(client, petition, settings, proof, message):
    settings.VIGIL_PROOF_MAX_BYTES = 4000
    letter = OpenLetterFactory(petition=petition, kind=LetterKind.SHAREHOLDER)
    data = {
        "name": "A Fund",
        "holding_kind": "undisclosed",
        "signer_name": "Kim",
        "email": "kim@fund.example",
        "proof": proof,
    }
    response = client.post(letter.get_absolute_url(), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not SignOn.objects.exists()


def test_edits_after_signing_become_versions_and_signatories_keep_theirs(petition):
    letter = OpenLetterFactory(petition=petition)
    organiser = organiser_of(petition)
    letter_save(letter=letter, title=letter.title, body="Changed before anyone signed.", by=organiser)
    assert LetterVersion.objects.filter(letter=letter).count() == 1
    first = SignOnFactory(letter=letter)
    version = letter_save(letter=letter, title=letter.title, body="Changed after signing.", by=organiser)
    assert (
        version.number == 2
        and LetterVersion.objects.get(letter=letter, number=1).body == "Changed before anyone signed."
    )
    first.refresh_from_db()
    assert first.letter_version.number == 1
    assert SignOnFactory(letter=letter, letter_version=version).letter_version.number == 2


def test_a_letter_with_no_verified_signatories_is_not_compiled(client, petition):
    letter = OpenLetterFactory(petition=petition)
    SignOnFactory(letter=letter, state=SignOnState.CONFIRMED, reviewed_at=None)
    with pytest.raises(LetterError, match="No verified signatories"):
        letter_compile_request(letter=letter, by=None)
    client.force_login(organiser_of(petition))
    response = client.post(
        reverse("deliverables:organise_letter_compile", args=[petition.slug, letter.slug]), follow=True
    )
    assert "No verified signatories" in response.content.decode()


def test_compiles_are_numbered_with_count_and_checksum_and_the_old_ones_stay(petition):
    letter = OpenLetterFactory(petition=petition)
    logo = SimpleUploadedFile("l.png", _png(), "image/png")
    with_logo = SignOnFactory(letter=letter, name="Beta")
    with_logo.logo.save("logo.png", logo)
    SignOnFactory(letter=letter, name="alpha", letter_version=letter.current_version)
    SignOnFactory(letter=letter, name="Gamma", state=SignOnState.REJECTED)
    first = letter_compile_run(compile_id=letter_compile_request(letter=letter, by=None, queue=False).pk)
    second = letter_compile_run(compile_id=letter_compile_request(letter=letter, by=None, queue=False).pk)
    assert (first.number, second.number) == (1, 2)
    assert first.state == second.state == JobState.DONE and first.signatory_count == 2
    content = private_path(first.file_name).read_bytes()
    assert content.startswith(b"%PDF-") and first.checksum == hashlib.sha256(content).hexdigest()
    assert private_path(second.file_name).exists() and first.file_name != second.file_name


def test_a_logo_gets_one_small_rendition_per_format_beside_it_and_a_new_logo_gets_its_own(petition):
    signon = SignOnFactory(letter=OpenLetterFactory(petition=petition))
    signon.logo.save("logo.png", SimpleUploadedFile("l.png", _png(size=(800, 400)), "image/png"))
    signon_logo_render(signon_id=signon.pk)
    signon.refresh_from_db()
    stem = signon.logo.name.rsplit(".", 1)[0]
    assert sorted((r["width"], r["height"], r["format"], r["name"]) for r in signon.renditions) == [
        (320, 160, "jpeg", f"{stem}-320w.jpg"),
        (320, 160, "webp", f"{stem}-320w.webp"),
    ]
    assert signon.logo_rendition("jpeg") == f"{stem}-320w.jpg"
    signon.logo.save("logo.png", SimpleUploadedFile("l.png", _png(size=(200, 100)), "image/png"))
    assert signon.logo_rendition("jpeg") == signon.logo.name  # the old renditions are not the new logo's
    signon_logo_render(signon_id=signon.pk)
    signon.refresh_from_db()
    assert {(r["width"], r["source"]) for r in signon.renditions} == {(200, signon.logo.name)}


def test_compile_page_reports_progress_and_lists_signatories_with_constant_queries(
    client, petition, django_assert_max_num_queries
):
    letter = OpenLetterFactory(petition=petition, kind=LetterKind.SHAREHOLDER)
    ShareholderSignOnFactory(letter=letter)
    letter_compile_run(compile_id=letter_compile_request(letter=letter, by=None, queue=False).pk)
    client.force_login(organiser_of(petition))
    url = reverse("deliverables:organise_letter", args=[petition.slug, letter.slug])
    with django_assert_max_num_queries(40) as few:
        assert client.get(url).status_code == 200
    for _ in range(12):
        ShareholderSignOnFactory(letter=letter, state=SignOnState.CONFIRMED, reviewed_at=None)
    compiled = letter_compile_request(letter=letter, by=None, queue=False)
    letter_compile_run(compile_id=compiled.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert "1,200 shares" in html and "data-progress-url" in html
    progress = client.get(reverse("deliverables:organise_compile_progress", args=[petition.slug, compiled.pk])).json()
    assert progress["state"] == "done" and progress["download"]
    public = client.get(letter.get_absolute_url()).content.decode()
    assert "1,200 shares" in public and "contact" not in public


def test_review_refuses_to_verify_an_unconfirmed_email(petition):
    letter = OpenLetterFactory(petition=petition)
    pending = SignOnFactory(letter=letter, state=SignOnState.PENDING, confirmed_at=None, reviewed_at=None)
    from deliverables.services.signons import SignOnError

    with pytest.raises(SignOnError):
        signon_review(signon=pending, verify=True, by=None)
    assert signon_review(signon=pending, verify=False, by=None).state == SignOnState.REJECTED


def test_an_organiser_writes_opens_edits_and_closes_a_letter_from_the_pages(client, petition):
    client.force_login(organiser_of(petition))
    url = reverse("deliverables:organise_letters", args=[petition.slug])
    assert "No letters yet." in client.get(url).content.decode()
    data = {"kind": "coalition", "slug": "coalition", "title": "Our letter", "body": "Dear Chief,\n\nStop it."}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 400  # the same address twice
    letter = petition.letters.get()
    page = reverse("deliverables:organise_letter", args=[petition.slug, letter.slug])
    assert client.get(letter.get_absolute_url()).status_code == 404  # a draft is not public
    client.post(page, {"action": "open"})
    assert "Dear Chief," in client.get(letter.get_absolute_url()).content.decode()
    SignOnFactory(letter=letter)
    response = client.post(
        page, {"action": "save", "title": "Our letter", "body": "Dear Chief,\n\nPlease stop."}, follow=True
    )
    assert "Saved as version 2." in response.content.decode()
    client.post(page, {"action": "close"})
    letter.refresh_from_db()
    assert letter.state == "closed" and letter.current_version.number == 2
    closed = client.post(letter.get_absolute_url(), _org())
    assert closed.status_code == 409 and SignOn.objects.count() == 1
