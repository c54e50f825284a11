"""An organiser signs in with their second factor, opens their petition's dashboard, verifies an organisation and a
shareholder who signed its letters, exports the signatures while the bar fills, compiles both letters, delivers
them with the packet to the decision maker by e-mail, and reads the delivery log.

The journey is a list of steps (tests/browser/pages.py). The jobs (the export, the compiles, the delivery and its
e-mail) are run by the session's real Celery worker; the pages follow them as the organiser would.
"""

import csv
import io
import re

from playwright.sync_api import expect

from accounts.roles import ORGANISERS
from core.models import OutboundEmail
from petitions.models import MembershipRole, PetitionStatus
from tests.browser import pages
from tests.browser.content import campaign_create, letters_create, site_content_create
from tests.browser.helpers import assert_fits_width, outbox_message, screenshot
from tests.factories import staff_user, totp_enable
from tests.petitions.factories import MembershipFactory
from tests.utils import wait_for

CONFIRMED = 3000


def test_organiser_journey(page, device, celery_worker):
    content = site_content_create()
    petition = campaign_create(story=content.story, pending=2)
    organiser = staff_user(ORGANISERS, mfa=False)
    secret = totp_enable(organiser)
    MembershipFactory(petition=petition, user=organiser, role=MembershipRole.OWNER)
    letters = letters_create(petition=petition, organiser=organiser)
    signatories = letters.verified + 1  # once the organiser has verified the one waiting on each letter

    pages.login_with_mfa(
        page, email=organiser.email, password="correct horse battery staple", secret=secret, next_path="/organise/"
    )
    pages.organise_dashboard_open(page, device, title=petition.title)
    totals = pages.organise_totals(page)
    assert totals["Confirmed"] == CONFIRMED
    assert totals["Waiting for confirmation"] == 2
    assert totals["Withdrawn"] == 0
    assert totals["Public count"] == CONFIRMED

    # Verify the organisation and the shareholder who wait for review; they then appear on the public letters.
    pages.organise_section_open(
        page, device, link="Sign-on letters", heading="Sign-on letters", shot="organise-letters"
    )
    for letter in (letters.coalition, letters.shareholders):
        pages.letter_counts_read(page, title=letter.title, verified=letters.verified, to_review=1)
    organisation, shareholder = letters.organisation, letters.shareholder
    cases = [
        (letters.coalition, organisation.name, "Priya Nair, Director", "coalition"),
        (letters.shareholders, shareholder.name, "250,000 shares", "shareholders"),
    ]
    compiled = {}
    for letter, name, detail, label in cases:
        pages.letter_open(page, device, title=letter.title, shot=f"organise-letter-{label}")
        pages.signon_verify(page, name=name, note="Checked with their office by phone.")
        pages.letter_public_shows(
            page, device, title=letter.title, name=name, detail=detail, shot=f"letter-public-{label}-verified"
        )
        # Compile the letter as it now stands, and watch the job until its PDF is ready.
        href = pages.letter_compile(
            page, device, celery_worker, signatories=signatories, shot=f"organise-letter-{label}-compiled"
        )
        pdf = pages.download_ok(page, href, content_type="application/pdf", starts_with=b"%PDF-")
        compiled[label] = len(pdf)
        pages.main(page).get_by_role("link", name="Letters", exact=True).click()
        pages.letter_counts_read(page, title=letter.title, verified=signatories, to_review=0)

    # Export the confirmed signatures as a spreadsheet, watching the bar fill without reloading.
    pages.organise_dashboard_back(page, title=petition.title)
    pages.organise_section_open(page, device, link="Signature packets", heading="Signature packets", shot="packets")
    text = pages.packet_export(page, device, celery_worker, kind="Spreadsheet (CSV)", rows=CONFIRMED)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name", "town", "region", "country", "postal_code", "signed_at", "confirmed_at"]
    assert len(rows) == 1 + CONFIRMED
    expect(pages.main(page).get_by_role("region", name="Recent downloads")).to_contain_text(organiser.public_name)

    # Deliver the packet and both letters to the decision maker, by e-mail.
    pages.organise_dashboard_back(page, title=petition.title)
    pages.organise_section_open(page, device, link="Delivery", heading="Delivery", shot="organise-delivery-empty")
    to = petition.target_email
    pages.deliver_by_email(
        page,
        device,
        to=to,
        documents=[
            f"Spreadsheet (CSV) · {CONFIRMED:,} rows",
            f"{letters.coalition.title} · compile 1 · {signatories} signatories",
            f"{letters.shareholders.title} · compile 1 · {signatories} signatories",
        ],
        message="Please find our petition and the two letters attached.",
    )

    # The worker hands the e-mail to the outbox and sends it; the log says what went, to whom, when, by whom, how.
    email = outbox_message(to=to, subject_contains=f"Petition: {petition.title}")
    assert "Please find our petition and the two letters attached." in email.body_text
    assert sorted(item["filename"].rsplit(".", 1)[-1] for item in email.attachments) == ["csv", "pdf", "pdf"]
    assert email.reply_to == [organiser.email]
    page.reload()
    sent = pages.delivery_log_shows(page, event="Sent")
    assert sent["To"] == to
    assert sent["By"] == organiser.public_name
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4} \d{2}:\d{2}", sent["When"]), sent["When"]
    for document in (f"Signatures (CSV, {CONFIRMED:,} rows)", letters.coalition.title, letters.shareholders.title):
        assert document in sent["Documents"], sent
    assert sent["Message id"] == email.message_id
    assert sent["Outcome"] == "Queued for sending: 3 attached, 0 as links."
    queued = pages.delivery_log_shows(page, event="Queued")
    assert (queued["To"], queued["By"], queued["Documents"]) == (to, organiser.public_name, sent["Documents"])
    assert pages.delivery_log_shows(page, event="Petition marked delivered")["By"] == organiser.public_name
    deliveries = pages.main(page).get_by_role("region", name="Deliveries")
    expect(deliveries).to_contain_text(re.compile(r"E-mailed by Vigil · Sent · Sent \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"))
    expect(deliveries).to_contain_text(f"<{to}>")
    screenshot(page, "organise-delivery", device)
    assert_fits_width(page, "delivery")

    petition.refresh_from_db()
    assert petition.status == PetitionStatus.DELIVERED
    assert wait_for(
        lambda: OutboundEmail.objects.filter(idempotency_key__startswith="petition-delivery:", to=[to]).count() == 1,
        timeout=5,
    )
    assert all(size > 1000 for size in compiled.values()), compiled
