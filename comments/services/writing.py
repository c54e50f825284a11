"""What readers do: write, reply, edit, delete and flag comments."""

from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from articles.models import Article
from comments.models import (
    Comment,
    CommentFlag,
    CommentState,
    FlagReason,
    Suspension,
    path_segment,
)
from comments.services.counts import counts_apply_move
from comments.services.errors import (
    CommentInvalid,
    CommentNotAllowed,
    DiscussionClosed,
    FlagDuplicate,
)
from comments.services.notices import comment_reply_notice_queue
from comments.services.pipeline import Submission, comment_screen, text_fingerprint
from core import pagecache
from core.sanitize import sanitize_reader_html


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    reason: str = ""
    suspension: Suspension | None = None


def comment_discussion_scopes(comment: Comment) -> list[str]:
    """The cached pages a comment appears on: its article's discussion (core.pagecache)."""
    if Comment.article.is_cached(comment):  # the services load it with the comment: no query then
        slug = comment.article.slug
    else:
        slug = Article.objects.filter(pk=comment.article_id).values_list("slug", flat=True).first()
    return [pagecache.discussion_scope(slug)] if slug else []


def comment_eligibility(*, user, now: datetime | None = None) -> Eligibility:
    """Whether this person may write comments now, and if not, why (in words for them)."""
    if user is None or not user.is_authenticated:
        return Eligibility(False, _("Sign in to join the discussion."))
    if not user.is_active:
        return Eligibility(False, _("This account is not active."))
    suspension = Suspension.objects.active(now=now).filter(user=user).order_by("until").last()
    if suspension is not None:
        if suspension.is_ban:
            return Eligibility(False, _("This account may no longer comment."), suspension)
        until = timezone.localtime(suspension.until).strftime("%d %B %Y, %H:%M")
        return Eligibility(False, _("This account may not comment until %(until)s.") % {"until": until}, suspension)
    if not EmailAddress.objects.filter(user=user, verified=True).exists():
        return Eligibility(False, _("Verify your e-mail address to join the discussion."))
    return Eligibility(True)


def _require_eligible(*, user, now: datetime | None) -> None:
    eligibility = comment_eligibility(user=user, now=now)
    if not eligibility.allowed:
        raise CommentNotAllowed(eligibility.reason)


def comment_text_clean(*, text: str) -> tuple[str, str]:
    """The typed text, trimmed, and its sanitised HTML; refuses an empty or oversize comment."""
    text = (text or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise CommentInvalid(_("Write something before posting."))
    limit = settings.VIGIL_COMMENTS_MAX_LENGTH
    if len(text) > limit:
        raise CommentInvalid(
            _("Comments can be at most %(limit)d characters; this one has %(length)d.")
            % {"limit": limit, "length": len(text)}
        )
    html = sanitize_reader_html(text)
    if not html.strip():
        raise CommentInvalid(_("Write something before posting."))
    return text, html


def comment_create(
    *,
    article: Article,
    author: User,
    text: str,
    parent: Comment | None = None,
    now: datetime | None = None,
    screen: bool = True,
    notify: bool = True,
) -> Comment:
    """Post a comment, or a reply to `parent`. It is visible at once, or held for review by the first step of the
    pipeline that objects (comments.services.pipeline).

    `screen=False` skips the hold rules and `notify=False` the reply notice: for content the site itself loads
    (the demo, imports), never for what a reader submits.

    The path is set right after the insert from the id the database gave the row, in the same transaction, so
    simultaneous replies never collide and nothing else in the thread is rewritten.
    """
    now = now or timezone.now()
    if not article.comments_open:
        raise DiscussionClosed(_("This discussion is closed."))
    if not article.is_public(now=now):
        raise CommentInvalid(_("This article is not published."))
    _require_eligible(user=author, now=now)
    text, html = comment_text_clean(text=text)
    if parent is not None:
        if parent.article_id != article.pk:
            raise CommentInvalid(_("That comment belongs to another discussion."))
        if parent.state != CommentState.VISIBLE:
            raise CommentInvalid(_("That comment can no longer be replied to."))
        if parent.depth + 1 > settings.VIGIL_COMMENTS_MAX_DEPTH:
            raise CommentInvalid(_("This thread is as deep as it can go; reply further up."))
    hold = comment_screen(submission=Submission(author=author, text=text, now=now)) if screen else None
    state = CommentState.HELD if hold else CommentState.VISIBLE
    with transaction.atomic():
        comment = Comment.objects.create(
            article=article,
            parent=parent,
            author=author,
            depth=parent.depth + 1 if parent else 0,
            body_source=text,
            body_html=html,
            state=state,
            state_reason=hold.reason if hold else "",
            held_by_step=hold.step if hold else "",
            fingerprint=text_fingerprint(text),
            state_changed_at=now,
            created_at=now,
        )
        comment.path = (parent.path if parent else "") + path_segment(comment.pk)
        comment.root_id = parent.root_id if parent else comment.pk
        Comment.objects.filter(pk=comment.pk).update(path=comment.path, root_id=comment.root_id)
        counts_apply_move(comment=comment, old_state=None, new_state=state)
        if notify and state == CommentState.VISIBLE and parent is not None:
            comment_reply_notice_queue(reply=comment, parent=parent)
    return comment


def _locked(comment: Comment) -> Comment:
    return Comment.objects.select_for_update().get(pk=comment.pk)


def comment_edit(*, comment: Comment, user: User, text: str, now: datetime | None = None) -> Comment:
    """The author changes their words within the edit window; the comment is marked edited.

    A visible comment goes through the pipeline again (all but the new-account step): one that now fails a step goes
    back to review.
    """
    now = now or timezone.now()
    _require_eligible(user=user, now=now)
    text, html = comment_text_clean(text=text)
    with transaction.atomic():
        comment = _locked(comment)
        if comment.author_id != user.pk:
            raise CommentNotAllowed(_("Only its author can edit a comment."))
        if not comment.can_be_edited_by(user, now=now):
            raise CommentInvalid(
                _("Comments can be edited for %(minutes)d minutes after posting.")
                % {"minutes": settings.VIGIL_COMMENTS_EDIT_WINDOW_SECONDS // 60}
            )
        old_state = comment.state
        comment.body_source, comment.body_html, comment.edited_at = text, html, now
        comment.fingerprint = text_fingerprint(text)
        fields = ["body_source", "body_html", "edited_at", "fingerprint"]
        hold = None
        if old_state == CommentState.VISIBLE:
            hold = comment_screen(submission=Submission(author=user, text=text, now=now, comment_id=comment.pk))
        if hold is not None:
            comment.state, comment.state_reason, comment.held_by_step, comment.state_changed_at = (
                CommentState.HELD,
                hold.reason,
                hold.step,
                now,
            )
            fields += ["state", "state_reason", "held_by_step", "state_changed_at"]
        comment.save(update_fields=fields)
        counts_apply_move(
            comment=comment,
            old_state=old_state,
            new_state=comment.state,
            old_open_flags=comment.open_flag_count,
            new_open_flags=comment.open_flag_count,
        )
    return comment


def comment_delete_by_author(*, comment: Comment, user: User, now: datetime | None = None) -> Comment:
    """The author withdraws a comment: its words go, a "[deleted]" placeholder keeps any replies in place."""
    now = now or timezone.now()
    with transaction.atomic():
        comment = _locked(comment)
        if comment.author_id != user.pk:
            raise CommentNotAllowed(_("Only its author can delete a comment."))
        if comment.state not in (CommentState.VISIBLE, CommentState.HELD, CommentState.HIDDEN_BY_FLAGS):
            raise CommentInvalid(_("This comment cannot be deleted any more."))
        old_state, old_flags = comment.state, comment.open_flag_count
        CommentFlag.objects.filter(comment=comment, reviewed_at__isnull=True).update(reviewed_at=now)
        comment.state = CommentState.DELETED_BY_AUTHOR
        comment.state_reason = ""
        comment.state_changed_at = now
        comment.body_source = comment.body_html = ""
        comment.open_flag_count = 0
        comment.save(
            update_fields=["state", "state_reason", "state_changed_at", "body_source", "body_html", "open_flag_count"]
        )
        counts_apply_move(
            comment=comment, old_state=old_state, new_state=comment.state, old_open_flags=old_flags, new_open_flags=0
        )
    return comment


@dataclass(frozen=True)
class FlagResult:
    flag: CommentFlag
    hidden: bool


def comment_flag(
    *, comment: Comment, user: User, reason: str, note: str = "", now: datetime | None = None
) -> FlagResult:
    """A reader reports a comment. One flag per reader per comment; at the threshold the comment is hidden."""
    now = now or timezone.now()
    if reason not in FlagReason.values:
        raise CommentInvalid(_("Choose a reason."))
    note = (note or "").strip()[:500]
    if reason == FlagReason.OTHER and not note:
        raise CommentInvalid(_("Say briefly what is wrong with this comment."))
    if user is None or not user.is_authenticated:
        raise CommentNotAllowed(_("Sign in to flag a comment."))
    if not EmailAddress.objects.filter(user=user, verified=True).exists():
        raise CommentNotAllowed(_("Verify your e-mail address to flag comments."))
    with transaction.atomic():
        comment = _locked(comment)
        if comment.author_id == user.pk:
            raise CommentInvalid(_("You cannot flag your own comment."))
        if comment.state not in (CommentState.VISIBLE, CommentState.HIDDEN_BY_FLAGS):
            raise CommentInvalid(_("This comment is not shown any more, so it cannot be flagged."))
        try:
            with transaction.atomic():
                flag = CommentFlag.objects.create(comment=comment, user=user, reason=reason, note=note, created_at=now)
        except IntegrityError as exc:
            raise FlagDuplicate(_("You have already flagged this comment. Thank you; a moderator will look.")) from exc
        old_state, old_flags = comment.state, comment.open_flag_count
        Comment.objects.filter(pk=comment.pk).update(open_flag_count=F("open_flag_count") + 1)
        comment.refresh_from_db(fields=["open_flag_count"])
        hidden = False
        if comment.state == CommentState.VISIBLE and comment.open_flag_count >= settings.VIGIL_COMMENTS_FLAG_THRESHOLD:
            comment.state = CommentState.HIDDEN_BY_FLAGS
            comment.state_reason = "Hidden after several readers flagged it; a moderator will review it."
            comment.state_changed_at = now
            comment.save(update_fields=["state", "state_reason", "state_changed_at"])
            hidden = True
        counts_apply_move(
            comment=comment,
            old_state=old_state,
            new_state=comment.state,
            old_open_flags=old_flags,
            new_open_flags=comment.open_flag_count,
        )
    return FlagResult(flag=flag, hidden=hidden)


def comments_erase_for_account(sender=None, *, user: User, **kwargs) -> int:
    """An account is being deleted: each of its comments still standing loses its words, as if its author deleted
    it (a "[deleted]" placeholder keeps replies in place). Returns how many."""
    done = 0
    standing = (CommentState.VISIBLE, CommentState.HELD, CommentState.HIDDEN_BY_FLAGS)
    for comment in Comment.objects.filter(author=user, state__in=standing):
        comment_delete_by_author(comment=comment, user=user)
        done += 1
    # Words of comments already removed by moderators go too (the moderation log keeps the decision).
    Comment.objects.filter(author=user).exclude(body_source="").update(body_source="", body_html="")
    return done
