"""A signer goes from a story to its petition, signs with the keyboard alone, confirms through the e-mail, sees the
count include them, and withdraws through the e-mail's other link.

Counts are folded in by a flush job that beat runs every few seconds; there is no beat in the tests, so the journey
queues that job on the real worker itself after each change, as beat would. The petition page caches its figures
for VIGIL_PETITION_PAGE_CACHE_SECONDS (5 s by default); the journey sets 1 s so that reloading shows the new count
quickly, and still goes through the cache.
"""

import pytest

from signatures.tasks import signature_counts_flush_task
from tests.browser import pages
from tests.browser.content import campaign_create, site_content_create


@pytest.fixture(autouse=True)
def _short_page_cache(settings):
    settings.VIGIL_PETITION_PAGE_CACHE_SECONDS = 1


def test_signer_journey(page, device):
    content = site_content_create()
    petition = campaign_create(story=content.story)
    email = f"sam-{device.name}@example.net"

    page.goto(content.story.get_absolute_url())
    before = pages.petition_box_count(page, title=petition.title)
    assert before == 3000
    pages.petition_open_from_article(page, device, title=petition.title)
    assert pages.petition_count(page) == before

    pages.petition_sign_with_keyboard(
        page,
        device,
        first_name="Sam",
        last_name="Keyes",
        email=email,
        country="United Kingdom",
        region="England",
        town="Leeds",
    )
    email_text = pages.signature_confirm_from_outbox(page, device, email=email)
    signature_counts_flush_task.delay()  # what beat does every few seconds
    pages.petition_back(page)
    pages.petition_count_becomes(page, before + 1)
    pages.recent_signers(page).get_by_text("Sam K., Leeds").wait_for()

    pages.signature_withdraw_from_email(page, email_text=email_text)
    signature_counts_flush_task.delay()
    pages.petition_back(page)
    pages.petition_count_becomes(page, before)
    pages.recent_signers_lose(page, "Sam K.")
    pages.petition_count_becomes(page, before)
