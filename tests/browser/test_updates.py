"""An owner writes an update, publishes it and asks to e-mail it; a second owner, in a browser of their own, follows
the approval e-mail and approves it, and watches the figures while it goes out; a signer gets the e-mail, follows
its unsubscribe link and stops the mail with one button; the next mailing reaches the other signers, not them.

The mailings are queued and sent by the session's real Celery worker.
"""

import re

from playwright.sync_api import expect

from accounts.roles import ORGANISERS
from core.models import OutboundEmail
from petitions.models import MembershipRole
from signatures.models import Signature
from tests.browser import pages
from tests.browser.content import campaign_create, site_content_create
from tests.browser.helpers import assert_fits_width, link_path, outbox_message, screenshot
from tests.factories import staff_user, totp_enable
from tests.petitions.factories import ConfirmedSignatureFactory, MembershipFactory
from tests.utils import wait_for

PASSWORD = "correct horse battery staple"


def _owner(petition):
    owner = staff_user(ORGANISERS, mfa=False)
    secret = totp_enable(owner)
    MembershipFactory(petition=petition, user=owner, role=MembershipRole.OWNER)
    return owner, secret


def _write_publish_and_ask(page, device, petition, *, title: str, text: str, shot: str) -> None:
    page.goto(f"/organise/{petition.slug}/updates/")
    form = pages.main(page)
    form.get_by_label(re.compile(r"^Title:?$")).fill(title)
    form.get_by_label(re.compile(r"^Text:?$")).fill(text)
    form.get_by_role("button", name="Save the draft").click()
    expect(pages.messages_region(page)).to_contain_text("Saved as a draft")
    pages.main(page).get_by_role("button", name="Publish").click()
    expect(pages.messages_region(page)).to_contain_text("Published")
    expect(pages.main(page)).to_contain_text("2 confirmed signers agreed to hear from the organisers")
    pages.main(page).get_by_role("button", name="Ask to e-mail it").click()
    expect(pages.messages_region(page)).to_contain_text("a second owner must approve")
    expect(pages.main(page)).to_contain_text("Waiting for a second owner to approve it")
    expect(pages.main(page).get_by_role("button", name="Approve and send")).to_have_count(0)
    screenshot(page, shot, device)


def _approve_from_email(page, device, *, approver_email: str, title: str, shot: str) -> None:
    asked = outbox_message(to=approver_email, subject_contains=f"Approve a mailing: {title}")
    page.goto(link_path(asked.body_text, "/organise/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    pages.main(page).get_by_role("button", name="Approve and send").click()
    expect(pages.messages_region(page)).to_contain_text("Approved: the e-mails are going out")
    report = pages.main(page).locator(".mailing-report")
    # The figures follow the mailing without a reload until every message is finished.
    expect(report).to_have_attribute("data-finished", "true", timeout=30_000)
    expect(report.locator("[data-figure=sent]")).to_have_text(re.compile(r"^[12]$"))
    expect(report).to_contain_text("Finished.")
    assert_fits_width(page, shot)
    screenshot(page, shot, device)


def test_an_update_mailed_with_a_second_owners_approval_and_a_signer_who_unsubscribes(page, device, browser, guard):
    content = site_content_create()
    petition = campaign_create(story=content.story, pending=0)
    Signature.objects.filter(petition=petition).update(contact_ok=False)  # the demo's signers did not agree
    ann = ConfirmedSignatureFactory(petition=petition, contact_ok=True, email="ann@example.org", first_name="Ann")
    bob = ConfirmedSignatureFactory(petition=petition, contact_ok=True, email="bob@example.org", first_name="Bob")
    writer, writer_secret = _owner(petition)
    approver, approver_secret = _owner(petition)

    pages.login_with_mfa(page, email=writer.email, password=PASSWORD, secret=writer_secret,
                         next_path=f"/organise/{petition.slug}/updates/")  # fmt: skip
    text = "<p>She listened, and promised an answer within a month.</p>"
    _write_publish_and_ask(page, device, petition, title="We met the chief executive", text=text, shot="update-asked")

    second = browser.new_context(base_url=guard.base_url, **device.context_options())
    guard.attach(second)
    approver_page = second.new_page()
    try:
        pages.login_with_mfa(approver_page, email=approver.email, password=PASSWORD, secret=approver_secret,
                             next_path="/organise/")  # fmt: skip
        _approve_from_email(approver_page, device, approver_email=approver.email,
                            title="We met the chief executive", shot="update-mailing-finished")  # fmt: skip

        # The signer reads the e-mail and stops this petition's mail, with one press of a button.
        got = outbox_message(to=ann.email, subject_contains="We met the chief executive")
        assert "promised an answer within a month" in got.body_text
        assert link_path(got.headers["List-Unsubscribe"], "/unsubscribe/") == link_path(got.body_text, "/unsubscribe/")
        signer = second.browser.new_context(base_url=guard.base_url, **device.context_options())
        guard.attach(signer)
        signer_page = signer.new_page()
        try:
            signer_page.goto(link_path(got.body_text, "/unsubscribe/"))
            expect(signer_page.get_by_role("heading", level=1)).to_have_text("Stop e-mails about this petition")
            pages.main(signer_page).get_by_role("button", name="Stop these e-mails").click()
            expect(pages.main(signer_page).get_by_text("you will get no more e-mails")).to_be_visible()
            screenshot(signer_page, "unsubscribed", device)
            pages.main(signer_page).get_by_role("link", name="See all your subscriptions").click()
            expect(pages.main(signer_page)).to_contain_text(petition.title)
            expect(pages.main(signer_page).get_by_role("cell", name="Stopped")).to_be_visible()
        finally:
            signer.close()

        # The next mailing reaches Bob, not Ann.
        page.goto(f"/organise/{petition.slug}/updates/")
        expect(pages.main(page)).to_contain_text("We met the chief executive")
        form = pages.main(page)
        form.get_by_label(re.compile(r"^Title:?$")).fill("The answer is in")
        form.get_by_label(re.compile(r"^Text:?$")).fill("<p>They will pause the sales.</p>")
        form.get_by_role("button", name="Save the draft").click()
        pages.main(page).get_by_role("button", name="Publish").click()
        expect(pages.main(page)).to_contain_text("1 confirmed signer agreed to hear from the organisers")
        pages.main(page).get_by_role("button", name="Ask to e-mail it").click()
        _approve_from_email(approver_page, device, approver_email=approver.email, title="The answer is in",
                            shot="update-second-mailing")  # fmt: skip
    finally:
        second.close()
    outbox_message(to=bob.email, subject_contains="The answer is in")
    assert wait_for(lambda: not OutboundEmail.objects.filter(mailing__startswith="update:", sent_at=None).exists(),
                    timeout=20)  # fmt: skip
    mailed = OutboundEmail.objects.filter(mailing__startswith="update:")
    assert mailed.filter(to__contains=[bob.email]).count() == 2
    assert mailed.filter(to__contains=[ann.email]).count() == 1  # the first mailing only: the second left her out
