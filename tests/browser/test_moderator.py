"""A moderator signs in with their second factor, works the flagged queue: removes a comment and suspends its author
for a chosen time, finds both decisions in the audit trail, restores the comment, and finds the restore there too."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import MODERATORS
from comments.models import CommentState, Suspension
from tests.browser import pages
from tests.browser.content import flagged_comment_create, reader_create, site_content_create
from tests.factories import staff_user, totp_enable

ABUSE = "Anyone who signs this is an idiot and should be ashamed."
OTHER = "This is the third story on this. Enough already, write about something else."
REASON = "Personal abuse of other readers."


def test_moderator_journey(page, device):
    content = site_content_create()
    troll = reader_create("Vex")
    flagged_comment_create(article=content.story, author=troll, text=ABUSE, flags=2)
    flagged_comment_create(article=content.story, author=reader_create("Grumble"), text=OTHER, flags=1)
    moderator = staff_user(MODERATORS, mfa=False)
    moderator.display_name = "Morgan Moderator"
    moderator.save(update_fields=["display_name"])
    secret = totp_enable(moderator)

    pages.login_with_mfa(
        page, email=moderator.email, password="correct horse battery staple", secret=secret, next_path="/moderation/"
    )
    pages.moderation_queue_open(page, device, flagged=2)
    pages.moderation_remove_and_suspend(page, text=ABUSE, reason=REASON, duration="30 days")

    pages.moderation_audit_open(page, device)
    removed = pages.audit_row(page, what=r"^Removed$")
    expect(removed).to_contain_text("Morgan Moderator")
    expect(removed).to_contain_text(REASON)
    expect(removed).to_contain_text("Vex")
    suspended = pages.audit_row(page, what=r"^Suspended the author$")
    expect(suspended).to_contain_text(REASON)
    expect(suspended).to_contain_text("Vex")
    suspension = Suspension.objects.get(user=troll)  # the chosen duration is what was recorded
    assert abs(suspension.until - (timezone.now() + timedelta(days=30))) < timedelta(minutes=5)

    pages.moderation_restore_removed(page, text=ABUSE)
    pages.moderation_audit_open(page, device)
    restore = pages.audit_row(page, what=r"^Reversed a decision \(#\d+: Removed\)$")
    expect(restore).to_contain_text("Morgan Moderator")
    expect(pages.audit_row(page, what=r"^Removed$")).to_contain_text("Reversed by Morgan Moderator")
    assert troll.comments.get().state == CommentState.VISIBLE

    # Back in public: the comment is up again for everyone.
    page.goto(f"{content.story.get_absolute_url()}discussion/")
    expect(pages.comment_item(page, author="Vex", text=ABUSE)).to_be_visible()
