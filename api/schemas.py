"""The shapes the API reads and writes, for validation and for the OpenAPI document (/api/v1/schema/)."""

from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model

from petitions import models as petitions_models


class Link(Schema):
    href: str
    title: str | None = None
    templated: bool | None = None
    name: str | None = None


Links = dict[str, Link | list[Link]]


class Error(Schema):
    error: str
    errors: dict[str, list[str]] | None = None


class EntryPoint(Schema):
    motd: str
    vendor_name: str
    product_name: str
    osdi_version: str
    max_page_size: int
    max_pagesize: int
    namespace: str
    links: Links = Field(alias="_links")


class _Page(Schema):
    total_pages: int
    per_page: int
    page: int
    total_records: int
    links: Links = Field(alias="_links")


def _page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of `item`s: the page's figures and links, and the items under `_embedded`."""
    return create_model(name, __base__=_Page, embedded=(dict[str, list[item]], Field(alias="_embedded")))


class Target(Schema):
    name: str
    organization: str | None = None


class Petition(Schema):
    identifiers: list[str]
    origin_system: str
    created_date: str
    modified_date: str
    title: str
    description: str
    petition_text: str
    browser_url: str
    featured_image_url: str | None = None
    total_signatures: int
    target: list[Target]
    status: str = Field(alias="vigil:status")
    links: Links = Field(alias="_links")


class PostalAddress(Schema):
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class EmailAddress(Schema):
    address: str
    primary: bool | None = None


class Person(Schema):
    given_name: str | None = None
    family_name: str | None = None
    postal_addresses: list[PostalAddress] | None = None
    email_addresses: list[EmailAddress] | None = None


class ReferrerData(Schema):
    source: str | None = None
    website: str | None = None


class Signature(Schema):
    identifiers: list[str]
    origin_system: str
    created_date: str
    modified_date: str
    action_date: str
    confirmed_date: str | None = Field(None, alias="vigil:confirmed_date")
    state: str = Field(alias="vigil:state")
    referrer_data: ReferrerData | None = None
    person: Person | None = None
    links: Links = Field(alias="_links")


PetitionPage = _page_of(Petition, "PetitionPage")


SignaturePage = _page_of(Signature, "SignaturePage")


class Source(Schema):
    name: str
    url: str | None = None


class Article(Schema):
    identifiers: list[str]
    origin_system: str
    created_date: str | None = None
    modified_date: str
    title: str
    description: str
    content: str
    browser_url: str
    section: str
    authors: list[str]
    source: Source | None = None
    links: Links = Field(alias="_links")


class Letter(Schema):
    identifiers: list[str]
    origin_system: str
    created_date: str
    modified_date: str
    title: str
    content: str
    kind: str
    state: str
    browser_url: str
    petition_title: str
    total_signatories: int
    links: Links = Field(alias="_links")


class Signatory(Schema):
    name: str
    signer_name: str
    signer_role: str | None = None
    website: str | None = None
    logo_url: str | None = None
    holding: str | None = None


ArticlePage = _page_of(Article, "ArticlePage")


LetterPage = _page_of(Letter, "LetterPage")


SignatoryPage = _page_of(Signatory, "SignatoryPage")


class Recorded(Schema):
    state: str = Field(alias="vigil:state")
    message: str = Field(alias="vigil:message")
    links: Links = Field(alias="_links")


# --- What the record signature helper reads: OSDI's person and the fields Action Network's clients send ----------


class _Strict(BaseModel):
    """What callers send: plain pydantic models. ninja's Schema also reads attributes of Django objects (a root
    validator on every nested model), which a request body never needs and which made validating it the costliest
    step of recording a signature."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EmailIn(_Strict):
    address: str = Field(max_length=254)
    primary: bool | None = None
    status: str | None = Field(None, max_length=50)


class PostalIn(_Strict):
    address_lines: list[str] = Field(default_factory=list, max_length=5)
    locality: str = Field("", max_length=200)
    region: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=50)
    country: str = Field("", max_length=100)
    primary: bool | None = None


class PersonIn(_Strict):
    given_name: str = Field("", max_length=200)
    family_name: str = Field("", max_length=200)
    email_addresses: list[EmailIn] = Field(min_length=1, max_length=5)
    postal_addresses: list[PostalIn] = Field(default_factory=list, max_length=5)
    phone_numbers: list[dict] = Field(default_factory=list, max_length=5, description="Accepted and not kept.")
    languages_spoken: list[str] = Field(default_factory=list, max_length=10, description="Accepted and not kept.")


class ReferrerIn(_Strict):
    source: str = Field("", max_length=100)
    website: str = Field("", max_length=2000)
    referrer: str = Field("", max_length=200)
    url: str = Field("", max_length=2000)


class SignatureIn(_Strict):
    person: PersonIn
    add_tags: list[str] = Field(default_factory=list, max_length=50, description="Accepted; Vigil has no tags.")
    identifiers: list[str] = Field(default_factory=list, max_length=10, description="Accepted and not kept.")
    comments: str = Field("", max_length=2000, description="Accepted and not kept.")
    triggers: dict = Field(default_factory=dict, description="Accepted; the confirmation e-mail is always sent.")
    referrer_data: ReferrerIn | None = None
    an_referrer_data: ReferrerIn | None = Field(None, alias="action_network:referrer_data")
    show_publicly: bool = Field(False, alias="vigil:show_publicly")
    contact_ok: bool = Field(False, alias="vigil:contact_ok")


# --- What creating and editing a petition read: its text, by the names the petition is read with -----------------


def _storable(value: str) -> str:
    """PostgreSQL stores no NUL character: refused here rather than failing there. (A lone surrogate is refused
    already, by the JSON parser.)"""
    if "\x00" in value:
        raise ValueError("The NUL character cannot be stored.")
    return value


def _text(field: str | None = None, **constraints):
    """A string for one of the petition's fields, no longer than that field holds."""
    if field is not None:
        constraints["max_length"] = petitions_models.Petition._meta.get_field(field).max_length
    return Annotated[str, StringConstraints(**constraints), AfterValidator(_storable)]


Title = _text("title", strip_whitespace=True, min_length=1)
READ_ONLY = "Read-only: accepted, so that an object read can be sent back whole, and not kept."


class TargetIn(_Strict):
    name: _text("target_name") = Field(description="The person asked to act.")
    organization: _text("target_organisation") | None = None


class PetitionChange(_Strict):
    """A petition's text, by the names GET gives it. A field left out, or null, stays as it is."""

    # Only the names GET gives: `status` without its prefix would be taken for a change of state, and ignored.
    model_config = ConfigDict(populate_by_name=False)

    title: Title | None = Field(None, description="What the petition is called.")
    description: _text() | None = Field(
        None, description="Why it matters, in HTML: paragraphs, headings, lists and links; anything else is removed."
    )
    petition_text: _text("ask") | None = Field(None, description="The one-line ask.")
    target: list[TargetIn] | None = Field(
        None, max_length=1, description="Who is asked to act: one target (an empty list changes nothing)."
    )
    identifiers: Any = Field(None, description=READ_ONLY)
    origin_system: Any = Field(None, description=READ_ONLY)
    created_date: Any = Field(None, description=READ_ONLY)
    modified_date: Any = Field(None, description=READ_ONLY)
    browser_url: Any = Field(None, description=READ_ONLY)
    featured_image_url: Any = Field(None, description=READ_ONLY + " The picture is set on the organiser pages.")
    total_signatures: Any = Field(None, description=READ_ONLY)
    status: Any = Field(
        None, alias="vigil:status", description=READ_ONLY + " A petition moves between states on the organiser pages."
    )
    links: Any = Field(None, alias="_links", description=READ_ONLY)


class PetitionIn(PetitionChange):
    """A new petition: a title at least; the rest can be written later, here or on the organiser pages."""

    title: Title = Field(description="What the petition is called.")
