"""An organiser adds a rule that holds signatures from one e-mail domain; a signer from that domain, in a browser of
their own, signs and confirms and is told exactly what any signer is told; the organiser's dashboard shows the held
signature, out of the count; an invalidation job for what the rule held is counted, run and reversed, its figures
followed on the page.

The job's batches run on the session's real Celery worker; counts are folded by the flush job, queued here as beat
would queue it.
"""

import re

from playwright.sync_api import expect

from accounts.roles import ORGANISERS
from petitions.models import MembershipRole
from signatures.models import InvalidationState, Signature, SignatureInvalidation, SignatureState
from signatures.tasks import signature_counts_flush_task
from tests.browser import pages
from tests.browser.content import campaign_create, site_content_create
from tests.browser.helpers import assert_fits_width, screenshot
from tests.factories import staff_user, totp_enable
from tests.petitions.factories import MembershipFactory
from tests.utils import wait_for

PASSWORD = "correct horse battery staple"
CONFIRMED = 3000


def _sign(page, petition, *, email: str) -> None:
    page.goto(petition.get_absolute_url() + "#sign")
    form = pages.main(page)
    form.locator("#id_first_name").fill("Robin")
    form.locator("#id_last_name").fill("Farmer")
    form.locator("#id_email").fill(email)
    form.locator("#id_country").select_option(label="United Kingdom")
    form.locator("#id_town").fill("Leeds")
    form.get_by_role("button", name="Sign").click()
    expect(page).to_have_url(re.compile(r"/petitions/[\w-]+/thanks/$"))
    expect(page.get_by_role("heading", level=1, name="Check your e-mail")).to_be_visible()


def test_an_organiser_holds_a_domain_and_sets_aside_then_restores_what_it_held(page, device, browser, guard):
    content = site_content_create()
    petition = campaign_create(story=content.story, pending=0)
    organiser = staff_user(ORGANISERS, mfa=False)
    secret = totp_enable(organiser)
    MembershipFactory(petition=petition, user=organiser, role=MembershipRole.ORGANISER)

    # The rule, from the dashboard's "Signature rules".
    pages.login_with_mfa(page, email=organiser.email, password=PASSWORD, secret=secret, next_path="/organise/")
    pages.organise_dashboard_open(page, device, title=petition.title)
    pages.organise_section_open(page, device, link="Signature rules", heading="Signature rules", shot="rules")
    expect(pages.main(page)).to_contain_text("No rules yet")
    form = pages.main(page)
    form.get_by_label("What it matches").select_option(label="E-mail domain")
    form.get_by_label(re.compile(r"^Matching:?$")).fill("Burner.Example")
    form.get_by_label("What it does").select_option(label="Accept, and hold for review")
    form.get_by_label(re.compile(r"^Note")).fill("Sign-ups from one farm of addresses")
    form.get_by_role("button", name="Add the rule").click()
    expect(pages.messages_region(page)).to_contain_text("Rule added")
    rules_table = pages.main(page).get_by_role("region", name="Rules in force")
    expect(rules_table).to_contain_text("burner.example")
    expect(rules_table).to_contain_text("Accept, and hold for review")
    assert_fits_width(page, "rules")
    screenshot(page, "rules-added", device)

    # The signer, in a browser of their own, sees what every signer sees.
    signer = browser.new_context(base_url=guard.base_url, **device.context_options())
    guard.attach(signer)
    signer_page = signer.new_page()
    try:
        _sign(signer_page, petition, email="robin@mail.burner.example")
        pages.signature_confirm_from_outbox(signer_page, device, email="robin@mail.burner.example")
    finally:
        signer.close()
    held = Signature.objects.get(petition=petition, email_domain="mail.burner.example")
    assert held.state == SignatureState.HELD

    # The dashboard shows it held, and not counted.
    signature_counts_flush_task.delay()
    pages.organise_dashboard_back(page, title=petition.title)
    totals = pages.organise_totals(page)
    assert totals["Held for review"] == 1 and totals["Confirmed"] == CONFIRMED and totals["Public count"] == CONFIRMED
    recent = pages.main(page).get_by_role("region", name="Recent signatures, newest first")
    expect(recent.get_by_role("row").filter(has_text="Robin F.")).to_contain_text("Held for review")
    screenshot(page, "dashboard-held", device)

    # The held list leads to a job for what the rule held: counted first, nothing changed yet.
    pages.main(page).get_by_role("link", name="Held for review", exact=True).first.click()
    expect(page.get_by_role("heading", level=1, name="Signatures held for review")).to_be_visible()
    held_row = pages.main(page).get_by_role("row").filter(has_text="Robin F.")
    expect(held_row).to_contain_text("burner.example")
    held_row.get_by_role("link", name="Set aside all held by this rule…").click()
    expect(page.get_by_role("heading", level=1, name="Invalidation jobs")).to_be_visible()
    expect(pages.main(page).get_by_label("Held by the rule")).to_have_value(str(held.marked_by_rule_id))
    pages.main(page).get_by_label(re.compile(r"^Reason")).fill("The farm's sign-ups, confirmed by its owner")
    pages.main(page).get_by_role("button", name="Count the signatures").click()
    expect(page.get_by_role("heading", level=1, name="Invalidation job")).to_be_visible()
    report = pages.main(page).locator(".job-report")
    expect(report).to_contain_text("Counted, not run")
    expect(pages.main(page).get_by_role("row").filter(has_text="Robin F.")).to_contain_text("Held for review")
    assert Signature.objects.get(pk=held.pk).state == SignatureState.HELD
    screenshot(page, "job-counted", device)

    # Run it; the worker's batches finish it and the page follows.
    pages.main(page).get_by_role("button", name="Set aside 1 signature").click()
    expect(report.locator("[data-figure=state_label]")).to_have_text("Done", timeout=30_000)
    expect(report.locator("[data-figure=set_aside]")).to_have_text("1")
    assert Signature.objects.get(pk=held.pk).state == SignatureState.INVALIDATED
    screenshot(page, "job-done", device)

    # Reverse it: the signature is held again, as it was.
    pages.main(page).get_by_role("button", name="Reverse: restore them all").click()
    expect(report.locator("[data-figure=state_label]")).to_have_text("Restored", timeout=30_000)
    expect(report.locator("[data-figure=restored]")).to_have_text("1")
    expect(pages.main(page)).to_contain_text("Reversed by")
    assert_fits_width(page, "job-reversed")
    screenshot(page, "job-reversed", device)
    job = SignatureInvalidation.objects.get(petition=petition)
    assert job.state == InvalidationState.REVERSED and job.created_by == organiser and job.reversed_by == organiser
    assert wait_for(lambda: Signature.objects.get(pk=held.pk).state == SignatureState.HELD, timeout=5)
