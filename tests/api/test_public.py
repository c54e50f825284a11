"""What the API shows anyone without a token: published articles, and the sign-on letters of public petitions with
their verified signatories, exactly as much as the public pages show."""

import json

import pytest
from django.utils import timezone

from deliverables.models import LetterKind, LetterState, SignOnState
from tests.deliverables.factories import OpenLetterFactory, ShareholderSignOnFactory, SignOnFactory
from tests.factories import DraftArticleFactory, PublishedArticleFactory
from tests.petitions.factories import DraftPetitionFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db


def test_published_articles_newest_first_and_nothing_else(client):
    older = PublishedArticleFactory(published_at=timezone.now() - timezone.timedelta(days=2))
    newer = PublishedArticleFactory(published_at=timezone.now() - timezone.timedelta(hours=1))
    DraftArticleFactory()
    PublishedArticleFactory(published_at=timezone.now() + timezone.timedelta(days=1))  # scheduled, not yet out
    body = client.get("/api/v1/articles").json()
    items = body["_embedded"]["vigil:articles"]
    assert [item["identifiers"][0] for item in items] == [f"vigil:{newer.public_id}", f"vigil:{older.public_id}"]
    assert body["total_records"] == 2
    one = client.get(f"/api/v1/articles/{older.public_id}").json()
    assert (one["title"], one["browser_url"]) == (older.title, f"http://testserver{older.get_absolute_url()}")
    draft = DraftArticleFactory()
    assert client.get(f"/api/v1/articles/{draft.public_id}").status_code == 404


def test_letters_of_public_petitions_with_their_verified_signatories_only(client):
    petition = OpenPetitionFactory()
    letter = OpenLetterFactory(petition=petition)
    verified = SignOnFactory(letter=letter, name="Open Rights Group")
    SignOnFactory(letter=letter, name="Pending Org", state=SignOnState.PENDING)
    SignOnFactory(letter=letter, name="Rejected Org", state=SignOnState.REJECTED)
    OpenLetterFactory(petition=petition, state=LetterState.DRAFT, slug="draft-letter")
    OpenLetterFactory(petition=DraftPetitionFactory())  # a draft petition's letter: not public
    body = client.get("/api/v1/letters").json()
    [item] = body["_embedded"]["vigil:letters"]
    assert item["identifiers"] == [f"vigil:{letter.public_id}"] and item["total_signatories"] == 1
    signatories = client.get(item["_links"]["vigil:signatories"]["href"]).json()
    [signatory] = signatories["_embedded"]["vigil:signatories"]
    assert signatory == {"name": "Open Rights Group", "signer_name": verified.signer_name,
                         "signer_role": verified.signer_role, "website": verified.website}  # fmt: skip
    assert verified.email not in json.dumps(signatories)  # never a signatory's e-mail


def test_shareholders_show_their_holding_and_no_website(client):
    letter = OpenLetterFactory(petition=OpenPetitionFactory(), kind=LetterKind.SHAREHOLDER)
    ShareholderSignOnFactory(letter=letter, name="A Pension Fund", holding_kind="shares", shares=1200)
    [signatory] = client.get(f"/api/v1/letters/{letter.public_id}/signatories").json()["_embedded"]["vigil:signatories"]
    assert "website" not in signatory and "logo_url" not in signatory


def test_signatories_page_by_name(client):
    letter = OpenLetterFactory(petition=OpenPetitionFactory())
    SignOnFactory.create_batch(30, letter=letter)
    path = f"/api/v1/letters/{letter.public_id}/signatories"
    first = client.get(path).json()
    second = client.get(first["_links"]["next"]["href"]).json()
    names = [s["name"] for s in first["_embedded"]["vigil:signatories"] + second["_embedded"]["vigil:signatories"]]
    assert names == sorted(names) and len(set(names)) == 30
    assert client.get(path, {"filter": "created_date gt '2026-01-01'"}).status_code == 400
    assert client.get("/api/v1/letters/not-a-letter/signatories").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/articles", "/api/v1/letters"])
def test_a_page_past_any_end_is_empty_not_an_error(client, path):
    PublishedArticleFactory()
    answer = client.get(path, {"page": str(10**20)})
    assert answer.status_code == 200 and list(answer.json()["_embedded"].values()) == [[]]
