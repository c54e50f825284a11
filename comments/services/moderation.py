"""What moderators do: approve, remove, suspend, ban, hide an account's comments, feature a comment, and reverse any
of it.

Every decision writes a ModerationAction (who, what, which comment or account, why, when) in the same transaction as
the change itself, with what the comment was before, so that `moderation_action_reverse` can put it back; the
reversal is recorded too. Each service locks the comment's row while it moves it, so two moderators clicking at
once cannot both apply a decision: the second sees the new state and is told so.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import User
from comments.models import (
    Comment,
    CommentFlag,
    CommentState,
    ModerationAction,
    ModerationActionKind,
    Suspension,
    WatchedPattern,
)
from comments.services.counts import counts_apply_move
from comments.services.errors import ModerationError
from comments.services.notices import comment_reply_notice_queue
from comments.services.pipeline import watch_regex_compile
from comments.services.writing import comment_discussion_scopes
from core import pagecache

MODERATE_PERMISSION = "comments.moderate_comment"
APPROVABLE = (CommentState.HELD, CommentState.HIDDEN_BY_FLAGS, CommentState.VISIBLE)
REMOVABLE = (CommentState.HELD, CommentState.HIDDEN_BY_FLAGS, CommentState.VISIBLE)


def _require_moderator(actor: User) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(MODERATE_PERMISSION):
        raise ModerationError(_("Only moderators can do that."))


def _snapshot(comment: Comment) -> dict:
    return {"state": comment.state, "state_reason": comment.state_reason, "open_flag_count": comment.open_flag_count}


def _decide(
    *,
    comment: Comment,
    actor: User,
    kind: str,
    new_state: str,
    allowed_from: tuple,
    reason: str,
    now: datetime,
    group: ModerationAction | None = None,
) -> ModerationAction:
    """Move a locked comment to a decided state, close its open flags, and record the decision."""
    locked = Comment.objects.select_for_update().get(pk=comment.pk)
    if locked.state not in allowed_from:
        raise ModerationError(
            _("Comment %(id)s is now “%(state)s”; nothing was changed.")
            % {"id": locked.pk, "state": locked.get_state_display()}
        )
    if kind == ModerationActionKind.APPROVE and locked.state == CommentState.VISIBLE and not locked.open_flag_count:
        raise ModerationError(_("Comment %(id)s is already approved.") % {"id": locked.pk})
    action = ModerationAction.objects.create(
        actor=actor,
        action=kind,
        comment=locked,
        target_user_id=locked.author_id,
        reason=reason,
        previous=_snapshot(locked),
        created_at=now,
        group=group,
    )
    CommentFlag.objects.filter(comment=locked, reviewed_at__isnull=True).update(
        reviewed_at=now, reviewed_by_action=action
    )
    old_state, old_flags = locked.state, locked.open_flag_count
    locked.state = new_state
    locked.state_reason = reason if new_state == CommentState.REMOVED else ""
    locked.state_changed_at = now
    locked.open_flag_count = 0
    locked.save(update_fields=["state", "state_reason", "state_changed_at", "open_flag_count"])
    counts_apply_move(comment=locked, old_state=old_state, new_state=new_state, old_open_flags=old_flags)
    if new_state == CommentState.VISIBLE and old_state == CommentState.HELD and locked.parent_id:
        comment_reply_notice_queue(reply=locked, parent=locked.parent)
    comment.__dict__.update({k: getattr(locked, k) for k in ("state", "state_reason", "open_flag_count")})
    return action


@transaction.atomic
def comment_approve(*, comment: Comment, actor: User, now: datetime | None = None) -> ModerationAction:
    """Show a held or hidden comment, or dismiss the flags on a visible one."""
    _require_moderator(actor)
    return _decide(
        comment=comment,
        actor=actor,
        kind=ModerationActionKind.APPROVE,
        new_state=CommentState.VISIBLE,
        allowed_from=APPROVABLE,
        reason="",
        now=now or timezone.now(),
    )


@transaction.atomic
def comment_remove(
    *,
    comment: Comment,
    actor: User,
    reason: str,
    now: datetime | None = None,
    group: ModerationAction | None = None,
) -> ModerationAction:
    """Take a comment down; its author sees the reason, everyone else a "[removed]" placeholder if it has replies."""
    _require_moderator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Give a reason for the removal; its author will see it."))
    return _decide(
        comment=comment,
        actor=actor,
        kind=ModerationActionKind.REMOVE,
        new_state=CommentState.REMOVED,
        allowed_from=REMOVABLE,
        reason=reason[:300],
        now=now or timezone.now(),
        group=group,
    )


@transaction.atomic
def reader_suspend(
    *,
    user: User,
    actor: User,
    reason: str,
    days: int | None,
    comment: Comment | None = None,
    now: datetime | None = None,
) -> ModerationAction:
    """Keep a reader from commenting for `days`, or for good (days=None: a ban)."""
    _require_moderator(actor)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Give a reason for the suspension."))
    if days is not None and days < 1:
        raise ModerationError(_("A suspension lasts at least a day."))
    if user.pk == actor.pk:
        raise ModerationError(_("You cannot suspend yourself."))
    until = None if days is None else now + timedelta(days=days)
    suspension = Suspension.objects.create(
        user=user, until=until, reason=reason[:300], created_by=actor, created_at=now
    )
    return ModerationAction.objects.create(
        actor=actor,
        action=ModerationActionKind.BAN if until is None else ModerationActionKind.SUSPEND,
        comment=comment,
        target_user=user,
        suspension=suspension,
        reason=reason[:300],
        created_at=now,
    )


@transaction.atomic
def comment_remove_and_suspend(
    *, comment: Comment, actor: User, reason: str, days: int | None, now: datetime | None = None
) -> list[ModerationAction]:
    """Remove the comment and suspend (or, with days=None, ban) its author: two decisions, each reversible."""
    now = now or timezone.now()
    removal = comment_remove(comment=comment, actor=actor, reason=reason, now=now)
    if comment.author_id is None:
        return [removal]
    author = User.objects.get(pk=comment.author_id)
    return [removal, reader_suspend(user=author, actor=actor, reason=reason, days=days, comment=comment, now=now)]


@transaction.atomic
def reader_comments_hide_all(*, user: User, actor: User, reason: str, now: datetime | None = None) -> ModerationAction:
    """Remove every comment of an account that is still up or waiting; one reversible decision groups them."""
    _require_moderator(actor)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Give a reason; the author will see it on each comment."))
    group = ModerationAction.objects.create(
        actor=actor, action=ModerationActionKind.HIDE_ALL, target_user=user, reason=reason[:300], created_at=now
    )
    for comment in Comment.objects.filter(author=user, state__in=REMOVABLE).order_by("pk"):
        comment_remove(comment=comment, actor=actor, reason=reason, now=now, group=group)
    return group


def _reverse_comment_decision(*, action: ModerationAction, now: datetime) -> None:
    comment = Comment.objects.select_for_update().get(pk=action.comment_id)
    decided = CommentState.VISIBLE if action.action == ModerationActionKind.APPROVE else CommentState.REMOVED
    if comment.state != decided:
        raise ModerationError(
            _("Comment %(id)s has changed since (it is now “%(state)s”), so this decision cannot be reversed.")
            % {"id": comment.pk, "state": comment.get_state_display()}
        )
    previous_state = action.previous.get("state", CommentState.VISIBLE)
    reopened = CommentFlag.objects.filter(reviewed_by_action=action).update(reviewed_at=None, reviewed_by_action=None)
    old_state, old_flags = comment.state, comment.open_flag_count
    Comment.objects.filter(pk=comment.pk).update(
        state=previous_state,
        state_reason=action.previous.get("state_reason", ""),
        state_changed_at=now,
        open_flag_count=F("open_flag_count") + reopened,
    )
    comment.refresh_from_db(fields=["state", "open_flag_count"])
    pagecache.content_changed(*comment_discussion_scopes(comment))
    counts_apply_move(
        comment=comment,
        old_state=old_state,
        new_state=comment.state,
        old_open_flags=old_flags,
        new_open_flags=comment.open_flag_count,
    )


def _reverse_one(*, action: ModerationAction, actor: User, reason: str, now: datetime) -> ModerationAction:
    action = ModerationAction.objects.select_for_update().get(pk=action.pk)
    if action.action == ModerationActionKind.RESTORE:
        raise ModerationError(_("A reversal cannot itself be reversed; make a new decision instead."))
    if action.reversed_at is not None:
        raise ModerationError(_("This decision was already reversed."))
    if action.action in (ModerationActionKind.APPROVE, ModerationActionKind.REMOVE):
        _reverse_comment_decision(action=action, now=now)
    elif action.action in (ModerationActionKind.SUSPEND, ModerationActionKind.BAN):
        Suspension.objects.filter(pk=action.suspension_id, lifted_at__isnull=True).update(
            lifted_at=now, lifted_by=actor
        )
    elif action.action in (ModerationActionKind.FEATURE, ModerationActionKind.UNFEATURE):
        _reverse_feature(action=action)
    elif action.action == ModerationActionKind.HIDE_ALL:
        for member in action.members.filter(reversed_at__isnull=True).order_by("pk"):
            _reverse_one(action=member, actor=actor, reason=reason, now=now)
    restore = ModerationAction.objects.create(
        actor=actor,
        action=ModerationActionKind.RESTORE,
        comment_id=action.comment_id,
        target_user_id=action.target_user_id,
        reason=reason,
        reverses=action,
        created_at=now,
    )
    ModerationAction.objects.filter(pk=action.pk).update(reversed_by=actor, reversed_at=now)
    return restore


@transaction.atomic
def comment_feature(*, comment: Comment, actor: User, featured: bool = True, now: datetime | None = None):
    """Feature a visible comment (shown first in its discussion, with a mark), or stop featuring it; on record and
    reversible like any decision."""
    _require_moderator(actor)
    now = now or timezone.now()
    locked = Comment.objects.select_for_update().select_related("article").get(pk=comment.pk)
    if featured and locked.state != CommentState.VISIBLE:
        raise ModerationError(_("Only a visible comment can be featured."))
    if featured == (locked.featured_at is not None):
        raise ModerationError(
            _("This comment is featured already.") if featured else _("This comment is not featured.")
        )
    action = ModerationAction.objects.create(
        actor=actor,
        action=ModerationActionKind.FEATURE if featured else ModerationActionKind.UNFEATURE,
        comment=locked,
        target_user_id=locked.author_id,
        previous={"featured_at": locked.featured_at.isoformat() if locked.featured_at else None,
                  "featured_by": locked.featured_by_id},
        created_at=now,
    )  # fmt: skip
    Comment.objects.filter(pk=locked.pk).update(
        featured_at=now if featured else None, featured_by=actor if featured else None
    )
    pagecache.content_changed(*comment_discussion_scopes(locked))
    return action


def _reverse_feature(*, action: ModerationAction) -> None:
    previous = action.previous.get("featured_at")
    comment = Comment.objects.select_for_update().select_related("article").get(pk=action.comment_id)
    Comment.objects.filter(pk=comment.pk).update(
        featured_at=parse_datetime(previous) if previous else None, featured_by_id=action.previous.get("featured_by")
    )
    pagecache.content_changed(*comment_discussion_scopes(comment))


@transaction.atomic
def moderation_action_reverse(
    *, action: ModerationAction, actor: User, reason: str = "", now: datetime | None = None
) -> ModerationAction:
    """Undo a decision (restore a removed comment, re-hold an approved one, lift a suspension); recorded as well."""
    _require_moderator(actor)
    return _reverse_one(action=action, actor=actor, reason=(reason or "").strip()[:300], now=now or timezone.now())


@transaction.atomic
def suspension_lift(*, suspension: Suspension, actor: User, now: datetime | None = None) -> None:
    """Lift a suspension or ban early, by reversing the decision that made it."""
    _require_moderator(actor)
    action = ModerationAction.objects.filter(suspension=suspension, reversed_at__isnull=True).first()
    if action is None:
        raise ModerationError(_("This suspension has already been lifted."))
    _reverse_one(action=action, actor=actor, reason="Lifted early", now=now or timezone.now())


def watched_pattern_add(*, pattern: str, is_regex: bool, actor: User, note: str = "") -> WatchedPattern:
    _require_moderator(actor)
    pattern = (pattern or "").strip()
    if not pattern:
        raise ModerationError(_("Enter a word, phrase or pattern."))
    if is_regex and watch_regex_compile(pattern) is None:
        raise ModerationError(
            _("That is not a pattern we can run. Patterns use RE2 syntax, which matches in linear time: "
              "no look-arounds (?= (?! (?<= (?<! and no back-references \\1.")
        )  # fmt: skip
    found, _created = WatchedPattern.objects.get_or_create(
        pattern=pattern[:200], is_regex=is_regex, defaults={"created_by": actor, "note": note[:200]}
    )
    return found


def watched_pattern_delete(*, pattern: WatchedPattern, actor: User) -> None:
    _require_moderator(actor)
    pattern.delete()
