"""axe-core on the pages most people see, at both widths: no serious or critical problem, and nothing wider than the
window. Saves a screenshot of each."""

from playwright.sync_api import expect

from accounts.roles import MODERATORS, ORGANISERS
from accounts.services.roles import role_grant
from comments.services.moderation import comment_remove
from deliverables.models import DeliveryLog, DeliveryMethod, JobState, PacketKind
from deliverables.services.delivery import delivery_create
from deliverables.services.letters import letter_compile_request
from deliverables.services.packets import packet_export_request
from petitions.models import MembershipRole
from tests.browser import pages
from tests.browser.content import (
    campaign_create,
    discussion_create,
    flagged_comment_create,
    letters_create,
    reader_create,
    site_content_create,
)
from tests.browser.helpers import assert_fits_width, axe_summary, axe_violations, screenshot
from tests.factories import staff_user, totp_enable
from tests.petitions.factories import MembershipFactory
from tests.utils import wait_for


def test_key_pages_have_no_serious_accessibility_problem(page, device):
    content = site_content_create()
    story = content.story
    petition = campaign_create(story=story)
    discussion_create(article=story)
    key_pages = {  # name: (path, something the page must show, so that the real page is checked)
        "home": ("/", story.title),
        "section": (content.section.get_absolute_url(), story.title),
        "article": (story.get_absolute_url(), story.standfirst),
        "gallery": (f"{story.get_absolute_url()}gallery/", "3 images"),
        "search": ("/search/?q=face+recognition", story.title),
        "signin": ("/accounts/login/", "Sign In"),
        "signup": ("/accounts/signup/", "Display name"),
        "petition": (petition.get_absolute_url(), "Sign this petition"),
        "discussion": (f"{story.get_absolute_url()}discussion/", "Idris"),
    }
    problems = _violations_on(page, device, key_pages)
    assert not problems, problems


def test_staff_pages_have_no_serious_accessibility_problem(page, device):
    """Signed in with a second factor, as someone who both moderates and runs the petition: the discussion with its
    comment form, the moderation queue and audit trail, the petition's dashboard, its sign-on letters (the organisers'
    pages and the public ones, with their sign-on forms), its signature packets and its delivery page with the log.
    The packet, the compile and the delivery are made by the worker beforehand, so that their pages show them."""
    content = site_content_create()
    story = content.story
    petition = campaign_create(story=story)
    discussion_create(article=story)
    flagged_comment_create(article=story, author=reader_create("Vex"), text="You are all fools.", flags=2)
    spam = flagged_comment_create(article=story, author=reader_create("Spammo"), text="Cheap watches here.", flags=1)
    staff = staff_user(MODERATORS, mfa=False)
    role_grant(user=staff, role=ORGANISERS)
    comment_remove(comment=spam, actor=staff, reason="Advertising.")  # so that the audit trail has a decision
    MembershipFactory(petition=petition, user=staff, role=MembershipRole.OWNER)
    letters = letters_create(petition=petition, organiser=staff)
    delivered = _deliverables_create(petition=petition, letters=letters, organiser=staff)
    secret = totp_enable(staff)
    pages.login_with_mfa(
        page, email=staff.email, password="correct horse battery staple", secret=secret, next_path="/moderation/"
    )
    key_pages = {
        "discussion-signed-in": (f"{story.get_absolute_url()}discussion/", "Join the discussion"),
        "moderation-queue": ("/moderation/", "You are all fools."),
        "moderation-audit": ("/moderation/audit/", "Advertising."),
        "organise-dashboard": (f"/organise/{petition.slug}/", "Waiting for confirmation"),
        "organise-letters": (f"/organise/{petition.slug}/letters/", letters.shareholders.title),
        "organise-letter-coalition": (
            f"/organise/{petition.slug}/letters/{letters.coalition.slug}/",
            letters.organisation.name,
        ),
        "organise-letter-shareholders": (
            f"/organise/{petition.slug}/letters/{letters.shareholders.slug}/",
            "250,000 shares",
        ),
        "letter-public-coalition": (letters.coalition.get_absolute_url(), "Sign on behalf of your organisation"),
        "letter-public-shareholders": (letters.shareholders.get_absolute_url(), "Sign as a shareholder"),
        "packets": (f"/organise/{petition.slug}/packets/", "Ready"),
        "delivery": (f"/organise/{petition.slug}/delivery/", delivered),
    }
    problems = _violations_on(page, device, key_pages)
    assert not problems, problems


def _violations_on(page, device, key_pages: dict[str, tuple[str, str]]) -> str:
    """Visit each page, check that it is the real page, save a screenshot, and run axe-core; returns the problems."""
    found = []
    for name, (path, expected) in key_pages.items():
        response = page.goto(path)
        assert response.ok, f"{path} answered {response.status}"
        expect(page.get_by_role("main")).to_contain_text(expected)
        screenshot(page, name, device)
        assert_fits_width(page, name)
        violations = axe_violations(page)
        if violations:
            found.append(f"{name} ({path}):\n{axe_summary(violations)}")
    return "axe-core found serious or critical problems:\n" + "\n".join(found) if found else ""


def _deliverables_create(*, petition, letters, organiser) -> str:
    """A finished CSV packet and a compile of the coalition letter, both e-mailed to the decision maker, all by the
    worker; returns what the delivery log's "sent" entry says once it is done."""
    export = packet_export_request(
        petition=petition, kind=PacketKind.CSV, include_emails=False, by=organiser, role="owner"
    )
    compiled = letter_compile_request(letter=letters.coalition, by=organiser)
    assert wait_for(
        lambda: {type(job).objects.get(pk=job.pk).state for job in (export, compiled)} == {JobState.DONE}, timeout=30
    ), "the worker did not finish the packet and the compile"
    export.refresh_from_db()
    compiled.refresh_from_db()
    delivery = delivery_create(
        petition=petition,
        method=DeliveryMethod.EMAIL,
        exports=[export],
        compiles=[compiled],
        by=organiser,
        message="The petition and the coalition's letter.",
        mark_delivered=False,
        notify_signers=False,
    )
    assert wait_for(lambda: DeliveryLog.objects.filter(delivery=delivery, event="sent").exists(), timeout=30), (
        "the worker did not send the delivery"
    )
    return "Queued for sending: 2 attached, 0 as links."
