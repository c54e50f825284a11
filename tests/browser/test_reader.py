"""A reader finds a story, looks through its pictures, joins, confirms their address and is signed in; then takes
part in the discussion: comments, replies to another reader, edits the reply and flags the other reader's comment.

VIGIL_COMMENTS_HOLD_FIRST keeps its default (1): the new account's first comment is held, and the journey checks
that its author is told so and sees it marked "awaiting review"; the reply, their second comment, is visible at once.
"""

from tests.browser import pages
from tests.browser.content import discussion_create, site_content_create

FIRST_COMMENT = "Thank you for covering this. Has any police force said publicly whether it uses the system?"
REPLY = "Who decides is exactly the question: the article says nobody has set any rules."
REPLY_EDITED = "Who decides is exactly the question, and the article says nobody has set any rules on it yet."


def test_reader_journey(page, device):
    content = site_content_create()
    discussion_create(article=content.story)  # other readers' thread, Idris's comment first
    email = f"reader-{device.name}@example.org"
    name = "Robin Reader"

    pages.home_open(page, device)
    pages.section_open_from_card(page, device, section_name=content.section.name)
    pages.article_open(page, device, title=content.story.title)
    pages.gallery_open(page, device, image_count=3)
    pages.gallery_next_with_arrow_key(page, expected_index=2)
    pages.gallery_next_with_arrow_key(page, expected_index=3)
    pages.gallery_previous_with_arrow_key(page, expected_index=2)

    pages.signup(page, device, email=email, display_name=name)
    pages.email_confirm_from_outbox(page, email=email)
    pages.assert_signed_in_as(page, name)

    pages.home_open(page, device, shoot=False)
    pages.article_open(page, device, title=content.story.title)
    pages.discussion_open_from_article(page, device)
    pages.comment_post(page, text=FIRST_COMMENT)
    pages.assert_comment_awaiting_review(page, author=name, text=FIRST_COMMENT)

    pages.discussion_back(page)
    pages.comment_reply(page, to="Idris", author=name, text=REPLY)
    pages.comment_edit(page, author=name, old_text=REPLY, new_text=REPLY_EDITED)

    pages.discussion_back(page)
    pages.comment_flag(page, device, author="Idris", reason="Off-topic", note="It drifts away from the article.")
