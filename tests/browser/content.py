"""What the browser journeys find on the site: the demo story (three images) and the demo's other stories, its
petition with its two sign-on letters, and readers' comments under the story."""

from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from accounts.roles import ORGANISERS
from articles.models import Article, Section
from comments.models import Comment, FlagReason
from comments.services.writing import comment_flag
from deliverables.demo import (
    COALITION_BODY,
    COALITION_SLUG,
    COALITION_TITLE,
    SHAREHOLDER_BODY,
    SHAREHOLDER_SLUG,
    SHAREHOLDER_TITLE,
    demo_logo,
)
from deliverables.models import HoldingKind, Letter, LetterKind, SignOn
from deliverables.services.letters import letter_create, letter_open
from deliverables.services.signons import SignOnDetails, logo_check, signon_confirm, signon_confirm_token, signon_create
from demo.campaign import demo_campaign_ensure
from demo.story import MORE_STORIES as DEMO_MORE_STORIES
from demo.story import demo_story_ensure
from petitions.models import Petition
from tests.comments.factories import post
from tests.deliverables.factories import ShareholderSignOnFactory, SignOnFactory
from tests.factories import VerifiedUserFactory, staff_user
from tests.petitions.factories import PendingSignatureFactory


@dataclass(frozen=True)
class SiteContent:
    story: Article  # the demo story: section "Computers", three images, so it has a gallery
    section: Section
    others: list[Article]


def site_content_create() -> SiteContent:
    """The demo story and the demo's other stories (demo_story_ensure makes both, one of them with a picture)."""
    story = demo_story_ensure()
    others = list(Article.objects.filter(slug__in=[spec["slug"] for spec in DEMO_MORE_STORIES]).order_by("pk"))
    return SiteContent(story=story, section=story.section, others=others)


# --- The demo story's petition -------------------------------------------------------------------------------------


def campaign_create(*, story: Article, pending: int = 2) -> Petition:
    """The demo petition (open, 3,000 confirmed signatures, counted) in the story's petition box, and a few
    signatures still waiting for confirmation. Its owner is a demo organiser; journeys add their own members."""
    petition = demo_campaign_ensure(article=story, organiser=staff_user(ORGANISERS, mfa=False))
    for _ in range(pending):
        PendingSignatureFactory(petition=petition)
    return petition


# --- Readers' comments ---------------------------------------------------------------------------------------------


def reader_create(display_name: str) -> User:
    return VerifiedUserFactory(display_name=display_name)


def discussion_create(*, article: Article) -> dict[str, Comment]:
    """A short thread by other readers (visible, made through the service), keyed by author."""
    idris, mei = reader_create("Idris"), reader_create("Mei")
    first = post(
        article=article,
        author=idris,
        text="Real-time matching at protests is the part that worries me. Who decides who is on the watch list?",
    )
    reply = post(
        article=article,
        author=mei,
        parent=first,
        text="The article says the customer supplies the database, so the police would. That is the problem.",
    )
    return {"Idris": first, "Mei": reply}


def flagged_comment_create(*, article: Article, author: User, text: str, flags: int = 2) -> Comment:
    """A visible comment that `flags` other readers have flagged (below the hiding threshold)."""
    comment = post(article=article, author=author, text=text)
    for _ in range(flags):
        comment_flag(comment=comment, user=reader_create("Flagger"), reason=FlagReason.HARASSMENT, note="Name-calling.")
    return comment


# --- The petition's sign-on letters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letters:
    coalition: Letter
    shareholders: Letter
    organisation: SignOn  # on the coalition letter, with a logo: e-mail confirmed, waiting for an organiser's check
    shareholder: SignOn  # on the shareholders' letter, with a holding: the same
    verified: int  # signatories each letter already has, verified earlier


def letters_create(*, petition: Petition, organiser: User, verified: int = 2) -> Letters:
    """The demo's two letters (open, made through the services), each with `verified` signatories already checked
    and one more whose sender has confirmed their e-mail address and who waits for an organiser to verify them."""
    coalition = _letter_open(
        petition=petition, organiser=organiser, slug=COALITION_SLUG, kind=LetterKind.COALITION, title=COALITION_TITLE
    )
    shareholders = _letter_open(
        petition=petition,
        organiser=organiser,
        slug=SHAREHOLDER_SLUG,
        kind=LetterKind.SHAREHOLDER,
        title=SHAREHOLDER_TITLE,
    )
    for _ in range(verified):
        SignOnFactory(letter=coalition, reviewed_by=organiser)
        ShareholderSignOnFactory(letter=shareholders, reviewed_by=organiser)
    name = "Open Rights Lab Glasgow"
    logo = logo_check(SimpleUploadedFile("logo.png", demo_logo(name, seed=3), content_type="image/png"))
    organisation = _signon_confirmed(
        letter=coalition,
        details=SignOnDetails(
            name=name,
            website="https://openrightslab.example.org",
            signer_name="Priya Nair",
            signer_role="Director",
            email="priya@openrightslab.example.org",
        ),
        logo=logo,
    )
    shareholder = _signon_confirmed(
        letter=shareholders,
        details=SignOnDetails(
            name="Northern Teachers' Pension Fund",
            signer_name="Jonas Berg",
            signer_role="Head of stewardship",
            email="stewardship@ntpf.example",
            holding_kind=HoldingKind.SHARES,
            shares=250_000,
        ),
    )
    return Letters(coalition, shareholders, organisation, shareholder, verified)


def _letter_open(*, petition: Petition, organiser: User, slug: str, kind: str, title: str) -> Letter:
    body = COALITION_BODY if kind == LetterKind.COALITION else SHAREHOLDER_BODY
    letter = letter_create(petition=petition, kind=kind, slug=slug, title=title, body=body, by=organiser)
    return letter_open(letter=letter)


def _signon_confirmed(*, letter: Letter, details: SignOnDetails, logo=None) -> SignOn:
    """Signed through the service (which e-mails the link) and confirmed as the link would."""
    signon = signon_create(letter=letter, details=details, logo=logo).signon
    signon, _ = signon_confirm(token=signon_confirm_token(signon=signon))
    return signon
