"""The demo's sign-on letters: a coalition letter signed by about seventy organisations (with generated logos) and a
shareholders' letter signed by seventeen shareholders, all verified. Idempotent by the letters' addresses."""

import io
import random

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from deliverables.models import HoldingKind, Letter, LetterKind, LetterState, SignOn, SignOnState
from deliverables.services.letters import letter_create, letter_open
from deliverables.services.signons import signon_logo_render, website_canonical
from signatures.email import email_canonical

COALITION_SLUG = "coalition-letter"
SHAREHOLDER_SLUG = "shareholders-letter"

COALITION_TITLE = "Civil society organisations ask you to end face recognition sales to police"
COALITION_BODY = """Dear Chief Executive,

We write as organisations that defend privacy, equality and the freedom to protest. Together we represent people in
many countries who have watched face recognition spread into policing without public debate or independent scrutiny.

Systems that identify people from camera images make more errors for some groups than for others, and every error can
mean a stop, a search or a wrongful arrest. Even when they work as designed, they make it possible to follow anyone
who walks past a camera, which changes what it means to attend a demonstration, a clinic or a place of worship.

We therefore ask your company to stop selling face recognition to police and immigration authorities, to publish the
agreements it has already signed with public bodies, and to commission independent testing of its error rates.

We would welcome the chance to meet you and discuss these requests."""

SHAREHOLDER_TITLE = "Shareholders ask the board to review face recognition sales"
SHAREHOLDER_BODY = """To the Chief Executive and the Board,

As shareholders, we believe the sale of face recognition to police and immigration authorities exposes the company to
legal, regulatory and reputational risks that have not been disclosed to investors.

We ask the board to suspend such sales until an independent human rights impact assessment has been completed and
published, and to report to shareholders on the agreements already in force.

Long-term value depends on the trust of customers, employees and the public."""

WORDS_A = [
    "Digital",
    "Open",
    "Civic",
    "Free",
    "Privacy",
    "Rights",
    "Citizens'",
    "People's",
    "Data",
    "Liberty",
    "Justice",
    "Public",
    "Street",
    "Net",
    "Community",
    "Fair",
]
WORDS_B = [
    "Rights Watch",
    "Liberties Union",
    "Freedom Foundation",
    "Privacy Network",
    "Futures",
    "Action Group",
    "Alliance",
    "Council",
    "Observatory",
    "Lab",
    "Defenders",
    "Collective",
    "Project",
    "Forum",
    "Initiative",
]
PLACES = [
    "Berlin",
    "Lagos",
    "Toronto",
    "Glasgow",
    "Nairobi",
    "São Paulo",
    "Lyon",
    "Oslo",
    "Dublin",
    "Seoul",
    "Cape Town",
    "Madrid",
    "Utrecht",
    "Austin",
    "Manila",
    "Warsaw",
    "Lima",
    "Wellington",
]
ROLES = ["Director", "Executive Director", "Policy Lead", "Chair", "Co-founder", "Campaigns Director"]
PEOPLE = [
    "Alex Morgan",
    "Priya Nair",
    "Jonas Berg",
    "Amara Okafor",
    "Lucía Torres",
    "Mei Chen",
    "Tom Walsh",
    "Fatima Khan",
    "Kenji Sato",
    "Olga Ivanova",
    "Rosa Costa",
    "Daniel Adams",
]
FUNDS = [
    "Northern Teachers' Pension Fund",
    "Green Horizon Investments",
    "St Brigid's Charitable Trust",
    "Municipal Employees' Retirement System",
    "Ethical Capital Partners",
    "The Rowan Foundation",
    "Coastal Workers' Superannuation",
    "Fair Future Asset Management",
    "Quaker Friends' Endowment",
    "Riverbend University Endowment",
    "Harbour Lights Credit Union",
    "Meadow & Stone Family Office",
    "Public Service Pension Plan",
    "Social Impact Growth Fund",
    "Sisters of Mercy Investment Office",
    "Lantern Responsible Equity",
    "Dr Helen Osei (private shareholder)",
]


def demo_logo(name: str, *, seed: int) -> bytes:
    """A small PNG logo: a coloured mark and the organisation's initials, drawn with Pillow alone."""
    rng = random.Random(seed)
    colour = tuple(rng.randint(30, 200) for _ in range(3))
    image = Image.new("RGB", (240, 120), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    shape = rng.choice(["ellipse", "rectangle", "triangle"])
    if shape == "ellipse":
        draw.ellipse((12, 12, 108, 108), fill=colour)
    elif shape == "rectangle":
        draw.rounded_rectangle((12, 12, 108, 108), radius=18, fill=colour)
    else:
        draw.polygon([(60, 10), (110, 108), (10, 108)], fill=colour)
    initials = "".join(word[0] for word in name.split() if word[:1].isalpha())[:3].upper()
    draw.text((60, 62), initials, fill=(255, 255, 255), font=ImageFont.load_default(size=34), anchor="mm")
    draw.text((122, 60), initials, fill=colour, font=ImageFont.load_default(size=40), anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _letter(*, petition, organiser, slug: str, kind: str, title: str, body: str) -> Letter:
    letter = Letter.objects.filter(petition=petition, slug=slug).select_related("current_version").first()
    if letter is None:
        letter = letter_create(petition=petition, kind=kind, slug=slug, title=title, body=body, by=organiser)
    if letter.state == LetterState.DRAFT:
        letter_open(letter=letter)
    letter.refresh_from_db()
    return letter


def demo_deliverables_ensure(*, petition, organiser) -> None:
    now = timezone.now()
    coalition = _letter(
        petition=petition,
        organiser=organiser,
        slug=COALITION_SLUG,
        kind=LetterKind.COALITION,
        title=COALITION_TITLE,
        body=COALITION_BODY,
    )
    if not SignOn.objects.filter(letter=coalition).exists():
        rng = random.Random(6)
        names: list[str] = []
        while len(names) < 70:
            name = f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)}"
            if rng.random() < 0.4:
                name = f"{name} {rng.choice(PLACES)}"
            if name not in names:
                names.append(name)
        for index, name in enumerate(names):
            slug = "".join(c for c in name.lower().replace(" ", "-") if c.isalnum() or c == "-")
            website = f"https://{slug}.example.org"
            email = f"contact@{slug}.example.org"
            signon = SignOn(
                letter=coalition,
                letter_version_id=coalition.current_version_id,
                state=SignOnState.VERIFIED,
                name=name,
                website=website,
                canonical_website=website_canonical(website),
                signer_name=rng.choice(PEOPLE),
                signer_role=rng.choice(ROLES),
                email=email,
                canonical_email=email_canonical(email),
                created_at=now,
                confirmed_at=now,
                reviewed_at=now,
                reviewed_by=organiser,
                logo_width=240,
                logo_height=120,
            )
            signon.logo.save(f"demo-logo-{index}.png", ContentFile(demo_logo(name, seed=index)), save=False)
            signon.save()
            signon_logo_render(signon_id=signon.pk)
    shareholders = _letter(
        petition=petition,
        organiser=organiser,
        slug=SHAREHOLDER_SLUG,
        kind=LetterKind.SHAREHOLDER,
        title=SHAREHOLDER_TITLE,
        body=SHAREHOLDER_BODY,
    )
    if not SignOn.objects.filter(letter=shareholders).exists():
        rng = random.Random(17)
        for index, fund in enumerate(FUNDS):
            email = f"stewardship{index}@shareholders.example"
            undisclosed = index % 5 == 4
            SignOn.objects.create(
                letter=shareholders,
                letter_version_id=shareholders.current_version_id,
                state=SignOnState.VERIFIED,
                name=fund,
                signer_name=rng.choice(PEOPLE),
                signer_role="Head of stewardship",
                email=email,
                canonical_email=email_canonical(email),
                holding_kind=HoldingKind.UNDISCLOSED if undisclosed else HoldingKind.SHARES,
                shares=None if undisclosed else rng.randint(5, 900) * 1000,
                created_at=now,
                confirmed_at=now,
                reviewed_at=now,
                reviewed_by=organiser,
            )
