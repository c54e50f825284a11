"""The public sign-on form under abuse: floods from one address, probing whether an address has signed, websites
that are not web addresses, and bodies too large to accept."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from PIL import Image

from core.models import OutboundEmail
from deliverables.models import LetterKind, SignOn
from tests.deliverables.factories import OpenLetterFactory, SignOnFactory

pytestmark = pytest.mark.django_db


def _org(n: int = 0, **overrides) -> dict:
    data = {
        "name": f"Open Rights Group {n}",
        "website": f"https://www.openrights{n}.example/",
        "signer_name": "Ada Lee",
        "signer_role": "Director",
        "email": f"ada@openrights{n}.example",
    }
    data.update(overrides)
    return data


def _mails_to(address: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(to__contains=[address]).order_by("pk"))


def _page(response) -> str:
    """The page as any visitor would compare it: without the per-visitor CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


# --- a. A limit per client address -------------------------------------------------------------------------------


def test_sign_ons_from_one_client_address_are_limited_and_the_form_is_kept(client, petition):
    letter = OpenLetterFactory(petition=petition)
    url = letter.get_absolute_url()
    answers = [client.post(url, _org(n)).status_code for n in range(40)]
    assert answers == [200] * 10 + [429] * 30  # the default: 10 an hour
    assert SignOn.objects.count() == 10 and OutboundEmail.objects.count() == 10
    over = client.post(url, _org(99))
    html = over.content.decode()
    assert over.status_code == 429 and "Wait a little" in html
    assert 'value="Open Rights Group 99"' in html and 'value="ada@openrights99.example"' in html
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert other.post(url, _org(100)).status_code == 200


@override_settings(VIGIL_SIGNON_RATE_PER_IP="2/h")
def test_the_limit_follows_its_setting(client, petition):
    letter = OpenLetterFactory(petition=petition)
    answers = [client.post(letter.get_absolute_url(), _org(n)).status_code for n in range(3)]
    assert answers == [200, 200, 429]


# --- b. The same answer whether or not an address has signed ---------------------------------------------------------


def test_a_repeat_gets_the_same_page_as_a_first_signing_and_the_mailbox_owner_is_told(client, petition):
    letter = OpenLetterFactory(petition=petition)
    url = letter.get_absolute_url()
    first = client.post(url, _org(1))
    repeat = client.post(url, _org(2, email="ADA@openrights1.example"))  # the same address, other details
    new = client.post(url, _org(3))
    assert first.status_code == repeat.status_code == new.status_code == 200
    assert _page(repeat) == _page(new) == _page(first)
    assert "already" not in _page(repeat)
    assert SignOn.objects.count() == 2
    confirm, note = _mails_to("ada@openrights1.example")
    assert "/petitions/letters/confirm/" in confirm.body_text
    assert "already signed" in note.body_text and "Open Rights Group 1" in note.body_text
    assert "/petitions/letters/confirm/" in note.body_text  # still pending: the link again
    # Within the notice interval, further repeats send nothing more.
    assert client.post(url, _org(4, email="ada@openrights1.example")).status_code == 200
    assert len(_mails_to("ada@openrights1.example")) == 2


def test_a_confirmed_signatory_is_told_without_a_new_link(client, petition):
    letter = OpenLetterFactory(petition=petition)
    SignOnFactory(letter=letter, email="sam@known.example", name="Known Org")
    response = client.post(letter.get_absolute_url(), _org(1, email="sam@known.example"))
    assert response.status_code == 200
    [note] = _mails_to("sam@known.example")
    assert "already signed" in note.body_text and "Known Org" in note.body_text
    assert "/petitions/letters/confirm/" not in note.body_text


def test_a_known_website_does_not_tell_whether_an_address_has_signed(client, petition):
    """With a website that has signed (public once verified), the answer must not depend on the address."""
    letter = OpenLetterFactory(petition=petition)
    SignOnFactory(
        letter=letter, email="sam@known.example", website="https://known.example", canonical_website="known.example"
    )
    url = letter.get_absolute_url()
    with_signed_address = client.post(url, _org(1, website="https://known.example", email="sam@known.example"))
    with_new_address = client.post(url, _org(2, website="https://known.example", email="kim@elsewhere.example"))
    assert with_signed_address.status_code == with_new_address.status_code == 200
    assert _page(with_signed_address) == _page(with_new_address)
    assert SignOn.objects.count() == 1
    [note] = _mails_to("kim@elsewhere.example")  # the new address learns about the website, nothing else
    assert "website" in note.body_text and "sam@known.example" not in note.body_text


# --- c. Only http and https websites -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("website", "message"),
    [
        ("javascript:alert(1)%2F%2F@a.example", "http:// or https://"),
        ("JavaScript:alert(1)//a.example", "http:// or https://"),
        ("data:text/html,<script>alert(1)</script>", "http:// or https://"),
        ("vbscript:msgbox(1)", "http:// or https://"),
        ("ftp://files.example.org/", "http:// or https://"),
        ("https://user:secret@openrights.example/", "user name or password"),
        ("https://open rights.example/", "spaces"),
        ("https://openrights/", "like https://example.org"),
    ],
)
def test_a_website_that_is_not_an_http_address_is_refused(client, petition, website, message):
    letter = OpenLetterFactory(petition=petition)
    response = client.post(letter.get_absolute_url(), _org(1, website=website))
    assert response.status_code == 400
    html = response.content.decode()
    errors = re.search(r'<ul class="errorlist" id="id_website_error">(.*?)</ul>', html, re.S)
    assert errors and message in errors.group(1)
    assert not SignOn.objects.exists() and not OutboundEmail.objects.exists()


@pytest.mark.parametrize(
    ("website", "stored"),
    [
        ("WWW.OpenRights.example/About", "https://www.openrights.example/About"),
        ("http://openrights.example:80/", "http://openrights.example/"),
        ("https://openrights.example:8443/x?y=1#top", "https://openrights.example:8443/x?y=1"),
        ("openrights.example:8443", "https://openrights.example:8443"),
    ],
)
def test_the_website_is_stored_normalised(client, petition, website, stored):
    letter = OpenLetterFactory(petition=petition)
    assert client.post(letter.get_absolute_url(), _org(1, website=website)).status_code == 200
    assert SignOn.objects.get().website == stored


def test_only_http_websites_are_rendered_as_links(client, petition):
    letter = OpenLetterFactory(petition=petition)
    SignOnFactory(letter=letter, name="Old Row", website="javascript:alert(1)%2F%2F@a.example")
    SignOnFactory(letter=letter, name="Good Row", website="https://good.example/")
    html = client.get(letter.get_absolute_url()).content.decode()
    assert "javascript:" not in html
    assert 'href="https://good.example/"' in html and "Old Row" in html


# --- d. Bodies too large are refused before they are read ---------------------------------------------------------


def test_a_body_larger_than_any_allowed_upload_is_refused_unread(petition, settings):
    settings.VIGIL_IMAGE_MAX_BYTES = 100_000
    settings.VIGIL_PROOF_MAX_BYTES = 50_000
    letter = OpenLetterFactory(petition=petition)
    client = Client(enforce_csrf_checks=True)  # the CSRF check must not read the body either
    page = client.get(letter.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    # The claimed length is far beyond the few bytes sent: reading the body would fail, so only an answer given
    # before reading it passes.
    response = client.post(
        letter.get_absolute_url(),
        {**_org(1), "csrfmiddlewaretoken": token},
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not SignOn.objects.exists()


def test_an_oversized_logo_is_refused_with_413_and_an_allowed_one_goes_through(client, petition, settings):
    settings.VIGIL_IMAGE_MAX_BYTES = 100_000
    letter = OpenLetterFactory(petition=petition)
    url = letter.get_absolute_url()
    huge = SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 300_000, "image/png")
    assert client.post(url, {**_org(1), "logo": huge}).status_code == 413
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 20, 30)).save(buffer, "PNG")
    small = SimpleUploadedFile("logo.png", buffer.getvalue(), "image/png")
    assert client.post(url, {**_org(2), "logo": small}).status_code == 200
    assert SignOn.objects.get().logo


def test_the_shareholders_form_allows_bodies_up_to_its_proof_size(client, petition, settings):
    settings.VIGIL_IMAGE_MAX_BYTES = 10_000
    settings.VIGIL_PROOF_MAX_BYTES = 200_000
    letter = OpenLetterFactory(petition=petition, kind=LetterKind.SHAREHOLDER)
    proof = SimpleUploadedFile("proof.pdf", b"%PDF-1.4\n" + b"0" * 100_000 + b"\n%%EOF", "application/pdf")
    data = {"name": "A Fund", "holding_kind": "undisclosed", "signer_name": "Kim", "email": "kim@fund.example"}
    assert client.post(letter.get_absolute_url(), {**data, "proof": proof}).status_code == 200


def test_the_sign_on_form_still_checks_csrf(petition):
    letter = OpenLetterFactory(petition=petition)
    response = Client(enforce_csrf_checks=True).post(letter.get_absolute_url(), _org(1))
    assert response.status_code == 403 and not SignOn.objects.exists()
