"""A reader finds a story, looks through its pictures, joins, confirms their address and is signed in."""

from tests.browser import pages
from tests.browser.content import site_content_create


def test_reader_journey(page, device):
    content = site_content_create()
    email = f"reader-{device.name}@example.org"

    pages.home_open(page, device)
    pages.section_open_from_card(page, device, section_name=content.section.name)
    pages.article_open(page, device, title=content.story.title)
    pages.gallery_open(page, device, image_count=3)
    pages.gallery_next_with_arrow_key(page, expected_index=2)
    pages.gallery_next_with_arrow_key(page, expected_index=3)
    pages.gallery_previous_with_arrow_key(page, expected_index=2)

    pages.signup(page, device, email=email, display_name="Robin Reader")
    pages.email_confirm_from_outbox(page, email=email)
    pages.assert_signed_in_as(page, "Robin Reader")
    # The discussion steps (comment, reply, edit, flag another reader's comment) continue from here.
