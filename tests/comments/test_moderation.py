"""The moderators' queue, decisions, suspensions, the audit trail and reversals; and who may not reach them."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import MODERATORS
from comments.models import (
    Comment,
    CommentFlag,
    CommentState,
    ModerationAction,
    QueueCounter,
    Suspension,
)
from comments.services.counts import comment_counts_reconcile
from comments.services.errors import ModerationError
from comments.services.moderation import comment_approve, comment_remove, moderation_action_reverse
from comments.services.writing import comment_create, comment_flag
from tests.comments.factories import post
from tests.factories import PublishedArticleFactory, VerifiedUserFactory, staff_user

pytestmark = pytest.mark.django_db


def _queue(kind):
    return QueueCounter.objects.get(kind=kind).count


def _flagged(article, *, flags=1, text="Flag me"):
    comment = post(article=article, text=text)
    for _ in range(flags):
        comment_flag(comment=comment, user=VerifiedUserFactory(), reason="spam")
    return comment


def test_a_reader_cannot_reach_the_queue_and_a_visitor_is_sent_to_sign_in(client, reader):
    assert client.get("/moderation/").status_code == 302
    client.force_login(reader)
    for url in ("/moderation/", "/moderation/audit/", "/moderation/patterns/", f"/moderation/readers/{reader.pk}/"):
        assert client.get(url).status_code == 403, url


def test_forged_moderation_post_without_the_role_is_refused(client, article, reader):
    comment = _flagged(article)
    client.force_login(reader)
    response = client.post("/moderation/act/", {"single": f"remove:{comment.pk}", "reason": "x"})
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.state == CommentState.VISIBLE and not ModerationAction.objects.exists()
    with pytest.raises(ModerationError):
        comment_remove(comment=comment, actor=reader, reason="nope")


def test_forged_moderation_post_without_csrf_is_refused(article, moderator):
    comment = _flagged(article)
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    response = client.post("/moderation/act/", {"single": f"approve:{comment.pk}"})
    assert response.status_code == 403
    assert not ModerationAction.objects.exists()


def test_moderator_without_a_second_factor_is_sent_to_set_one_up(client, article):
    client.force_login(staff_user(MODERATORS, mfa=False))
    response = client.get("/moderation/")
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]


def test_queue_shows_most_flagged_first_with_article_parent_and_reasons(client, article, moderator):
    parent = post(article=article, text="The parent comment text")
    low = _flagged(article, flags=1, text="Mildly flagged")
    high = post(parent=parent, text="Heavily flagged reply")
    for reason in ("hate", "harassment"):
        comment_flag(comment=high, user=VerifiedUserFactory(), reason=reason)
    client.force_login(moderator)
    html = client.get("/moderation/").content.decode()
    assert html.index("Heavily flagged reply") < html.index("Mildly flagged")
    assert "The parent comment text" in html and article.title in html
    assert "Hate × 1" in html and "Harassment × 1" in html
    assert f'value="approve:{low.pk}"' in html


def test_header_shows_the_kept_queue_count_to_moderators_only(client, settings, article, moderator, reader):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 1
    comment_create(article=article, author=VerifiedUserFactory(), text="Held one")
    _flagged(article)
    client.force_login(moderator)
    html = client.get("/").content.decode()
    assert 'href="/moderation/">Moderation <span class="queue-count">2<' in html
    client.force_login(reader)
    assert 'href="/moderation/"' not in client.get("/").content.decode()


def test_one_click_approve_remove_and_the_authors_view(client, article, moderator):
    author = VerifiedUserFactory()
    keep = _flagged(article, text="Keep this")
    drop = post(article=article, author=author, text="Drop this")
    comment_flag(comment=drop, user=VerifiedUserFactory(), reason="hate")
    assert _queue("flagged") == 2
    client.force_login(moderator)
    client.post("/moderation/act/", {"single": f"approve:{keep.pk}"})
    response = client.post("/moderation/act/", {"single": f"remove:{drop.pk}", "reason": "Hateful language"})
    assert response.status_code == 302
    keep.refresh_from_db()
    drop.refresh_from_db()
    assert keep.state == CommentState.VISIBLE and keep.open_flag_count == 0
    assert drop.state == CommentState.REMOVED and drop.state_reason == "Hateful language"
    assert _queue("flagged") == 0
    assert not CommentFlag.objects.filter(reviewed_at__isnull=True).exists()
    client.force_login(author)
    own = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Drop this" in own and "Hateful language" in own and "Removed by a moderator" in own
    client.logout()
    public = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Drop this" not in public and "Hateful language" not in public


def test_removal_needs_a_reason(client, article, moderator):
    comment = _flagged(article)
    client.force_login(moderator)
    client.post("/moderation/act/", {"single": f"remove:{comment.pk}", "reason": ""}, follow=True)
    comment.refresh_from_db()
    assert comment.state == CommentState.VISIBLE


def test_bulk_actions_on_a_selection(client, settings, article, moderator):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 1
    held = [comment_create(article=article, author=VerifiedUserFactory(), text=f"Held {n}") for n in range(3)]
    assert _queue("held") == 3
    client.force_login(moderator)
    client.post(
        "/moderation/act/",
        {"tab": "held", "action": "approve", "selected": [held[0].pk, held[1].pk]},
    )
    states = {c.pk: c.state for c in Comment.objects.all()}
    assert states[held[0].pk] == states[held[1].pk] == CommentState.VISIBLE
    assert states[held[2].pk] == CommentState.HELD
    assert _queue("held") == 1
    article.refresh_from_db()
    assert article.comment_count == 2
    assert ModerationAction.objects.filter(action="approve").count() == 2


def test_remove_and_suspend_or_ban_the_author(client, article, moderator):
    author = VerifiedUserFactory()
    comment = post(article=article, author=author, text="Abusive")
    comment_flag(comment=comment, user=VerifiedUserFactory(), reason="harassment")
    client.force_login(moderator)
    client.post(
        "/moderation/act/", {"single": f"remove_suspend:{comment.pk}", "reason": "Harassment", "duration": "ban"}
    )
    suspension = Suspension.objects.get(user=author)
    assert suspension.until is None and suspension.created_by == moderator
    assert set(ModerationAction.objects.values_list("action", flat=True)) == {"remove", "ban"}
    client.force_login(author)
    response = client.post(f"/news/{article.slug}/discussion/post/", {"text": "Back"})
    assert response.status_code == 400 and "may no longer comment" in response.content.decode()


def test_hide_all_of_an_accounts_comments_and_reverse_it(client, article, moderator):
    author = VerifiedUserFactory()
    mine = [post(article=article, author=author, text=f"Spam {n}") for n in range(3)]
    other = post(article=article, text="Someone else")
    client.force_login(moderator)
    response = client.post(f"/moderation/readers/{author.pk}/", {"action": "hide_all", "reason": "Spam account"})
    assert response.status_code == 302
    assert set(Comment.objects.filter(author=author).values_list("state", flat=True)) == {CommentState.REMOVED}
    other.refresh_from_db()
    assert other.state == CommentState.VISIBLE
    article.refresh_from_db()
    assert article.comment_count == 1
    group = ModerationAction.objects.get(action="hide_all")
    assert group.members.count() == 3
    client.post(f"/moderation/audit/{group.pk}/reverse/", {"reason": "Mistaken identity"})
    assert set(Comment.objects.filter(pk__in=[c.pk for c in mine]).values_list("state", flat=True)) == {
        CommentState.VISIBLE
    }
    article.refresh_from_db()
    assert article.comment_count == 4
    restore = ModerationAction.objects.get(action="restore", reverses=group)
    assert restore.reason == "Mistaken identity" and restore.actor == moderator
    assert ModerationAction.objects.filter(action="restore").count() == 4  # the group and each comment


def test_audit_trail_lists_filters_and_reverses_with_the_reversal_on_record(client, article, moderator):
    second = staff_user(MODERATORS)
    comment = _flagged(article, text="Borderline")
    other = _flagged(article, text="Other")
    removal = comment_remove(comment=comment, actor=moderator, reason="Off-topic")
    comment_approve(comment=other, actor=second)
    client.force_login(moderator)
    html = client.get("/moderation/audit/").content.decode()
    assert "Off-topic" in html and "Removed" in html and "Approved" in html
    only_removals = client.get("/moderation/audit/?action=remove").content.decode()
    assert "Off-topic" in only_removals and "Approved</td>" not in only_removals
    by_second = client.get(f"/moderation/audit/?actor={second.pk}").content.decode()
    assert "Approved" in by_second and "Off-topic" not in by_second
    by_comment = client.get(f"/moderation/audit/?comment={comment.pk}").content.decode()
    assert "Off-topic" in by_comment and f"Comment {other.pk}<" not in by_comment
    assert client.get("/moderation/audit/?date_from=not-a-date").status_code == 200

    client.post(f"/moderation/audit/{removal.pk}/reverse/", {"reason": "On reflection, fine"})
    comment.refresh_from_db()
    removal.refresh_from_db()
    # back to where it was: visible, its flag open again, in the flagged queue
    assert comment.state == CommentState.VISIBLE and comment.open_flag_count == 1
    assert removal.reversed_by == moderator and removal.reversed_at is not None
    assert ModerationAction.objects.filter(action="restore", reverses=removal).exists()
    assert _queue("flagged") == 1
    again = client.post(f"/moderation/audit/{removal.pk}/reverse/", follow=True).content.decode()
    assert "already reversed" in again
    with pytest.raises(ModerationError):
        moderation_action_reverse(action=removal, actor=moderator)


def test_restore_from_the_removed_tab(client, article, moderator):
    comment = _flagged(article, text="Wrongly removed")
    comment_remove(comment=comment, actor=moderator, reason="Mistake")
    client.force_login(moderator)
    html = client.get("/moderation/?tab=removed").content.decode()
    assert "Wrongly removed" in html and "Restore" in html
    action = ModerationAction.objects.get(action="remove")
    client.post(f"/moderation/audit/{action.pk}/reverse/", {"next": "/moderation/?tab=removed"})
    comment.refresh_from_db()
    assert comment.state == CommentState.VISIBLE


def test_two_moderators_deciding_at_once_apply_one_decision(article, moderator):
    comment = _flagged(article)
    comment_approve(comment=Comment.objects.get(pk=comment.pk), actor=moderator)
    with pytest.raises(ModerationError, match="already approved"):
        comment_approve(comment=Comment.objects.get(pk=comment.pk), actor=moderator)
    comment_remove(comment=Comment.objects.get(pk=comment.pk), actor=moderator, reason="Changed my mind")
    with pytest.raises(ModerationError):
        comment_remove(comment=Comment.objects.get(pk=comment.pk), actor=moderator, reason="Again")


def test_queue_first_page_in_constant_queries_with_10000_open_flags(client, moderator):
    """Flags made in bulk (the counters are then rebuilt by the reconcile job, as in production)."""
    article = PublishedArticleFactory()
    flaggers = VerifiedUserFactory.create_batch(100)
    client.force_login(moderator)

    def add(comments: int):
        made = [post(article=article, text=f"Comment {n}") for n in range(comments)]
        CommentFlag.objects.bulk_create(
            [
                CommentFlag(comment=comment, user=flagger, reason="spam")
                for index, comment in enumerate(made)
                for flagger in flaggers[: 1 + index % 100]
            ]
        )
        comment_counts_reconcile()

    def count():
        with CaptureQueriesContext(connection) as context:
            response = client.get("/moderation/")
        assert response.status_code == 200
        return len(context.captured_queries), response

    add(3)
    client.get("/moderation/")  # the header's sections are cached from here on, as in a running site
    few, _ = count()
    add(200)  # 1, 2, ... 100, 1, 2, ... 100 flags per comment: over 10,000 open flags in all
    assert CommentFlag.objects.filter(reviewed_at__isnull=True).count() >= 10_000
    many, response = count()
    assert few == many <= 16
    assert _queue("flagged") == 203
    html = response.content.decode()
    assert "Spam × 100" in html


def test_reconcile_rebuilds_every_counter(article, moderator):
    comment = _flagged(article, flags=2)
    reply = post(parent=comment)
    Comment.objects.filter(pk=comment.pk).update(open_flag_count=0, thread_reply_count=9)
    QueueCounter.objects.update(count=42)
    type(article).objects.filter(pk=article.pk).update(comment_count=0)
    comment_counts_reconcile()
    comment.refresh_from_db()
    article.refresh_from_db()
    assert comment.open_flag_count == 2 and comment.thread_reply_count == 1
    assert article.comment_count == 2
    assert _queue("flagged") == 1 and _queue("held") == 0
    assert reply.root_id == comment.pk


def test_reconcile_command_reports_what_it_corrected(article):
    from io import StringIO

    from django.core.management import call_command

    post(article=article)
    type(article).objects.filter(pk=article.pk).update(comment_count=7)
    out = StringIO()
    call_command("comments_reconcile", stdout=out)
    assert "articles: 1 corrected" in out.getvalue()
    article.refresh_from_db()
    assert article.comment_count == 1


def test_a_moderator_features_a_comment_shown_first_and_marked_and_can_reverse_it(client, article, reader, moderator):
    from comments.models import ModerationAction, ModerationActionKind
    from comments.services.moderation import comment_feature, moderation_action_reverse

    ordinary = post(article=article, author=reader, text="An ordinary comment.")
    picked = post(article=article, author=reader, text="A comment worth reading first.")
    with pytest.raises(ModerationError):
        comment_feature(comment=picked, actor=reader)  # readers cannot
    client.force_login(moderator)
    page = client.get(reverse("comments:permalink", args=[picked.pk])).content.decode()
    assert "Feature this comment" in page
    client.post(reverse("comments:feature", args=[picked.pk]), {"featured": "on"})
    picked.refresh_from_db()
    assert picked.featured_at is not None and picked.featured_by == moderator
    discussion = Client().get(reverse("comments:discussion", args=[article.slug])).content.decode()
    assert "Featured by the moderators" in discussion
    assert discussion.index("A comment worth reading first.") < discussion.index("An ordinary comment.")
    assert 'comment__badge--featured">Featured<' in discussion
    response = client.post(reverse("comments:feature", args=[picked.pk]), {"featured": "on"}, follow=True)
    assert "featured already" in response.content.decode()  # a second click changes nothing

    action = ModerationAction.objects.get(action=ModerationActionKind.FEATURE)
    assert action.actor == moderator and action.comment == picked
    moderation_action_reverse(action=action, actor=moderator, reason="Picked by mistake")
    picked.refresh_from_db()
    assert picked.featured_at is None
    assert (
        "Featured by the moderators"
        not in Client().get(reverse("comments:discussion", args=[article.slug])).content.decode()
    )
    with pytest.raises(ModerationError):
        comment_feature(comment=ordinary, actor=moderator, featured=False)  # not featured: nothing to stop
