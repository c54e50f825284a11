"""Discussion under articles: comments in threads, readers' flags, held comments, suspensions and the audit trail.

Thread storage: a materialised path. A comment's `path` is its parent's path followed by its own id written in
base 36, zero-padded to a fixed width (PATH_WIDTH characters; no separator is needed at a fixed width). The path is
set in the same transaction right after the insert, from the id the database just handed out, so two simultaneous
replies to one comment get different paths without any lock or renumbering. Sorting a thread by path gives display
order (parents before children, siblings oldest first) in one indexed query, and a page of threads is one query
whatever their depth. Measured against an adjacency list walked with a recursive CTE on the same 2,000-comment
discussion (bench/comments_discussion.py prints both): the path query is the simpler plan and the faster one, and
unlike nested sets or a renumbered "position" it never rewrites other rows when someone replies.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PATH_WIDTH = 7  # base-36 digits per level: ids up to 78 billion
PATH_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def path_segment(comment_id: int) -> str:
    """The comment's own id as a fixed-width, lower-case base-36 string ("0000001", "00000zz")."""
    if comment_id < 0:
        raise ValueError("A comment id is positive.")
    digits = ""
    value = comment_id
    while value:
        value, remainder = divmod(value, 36)
        digits = PATH_DIGITS[remainder] + digits
    segment = digits.rjust(PATH_WIDTH, "0")
    if len(segment) > PATH_WIDTH:
        raise ValueError("Comment id too large for the path width.")
    return segment


class CommentState(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HELD = "held", _("Awaiting review")
    HIDDEN_BY_FLAGS = "hidden_by_flags", _("Hidden after flags, awaiting review")
    REMOVED = "removed", _("Removed by a moderator")
    DELETED_BY_AUTHOR = "deleted_by_author", _("Deleted by its author")


# States shown to the public in full; every other state shows only to its author, or as a placeholder.
PUBLIC_STATES = (CommentState.VISIBLE,)
# States a moderator can still act on from the flagged tab.
FLAGGABLE_STATES = (CommentState.VISIBLE, CommentState.HIDDEN_BY_FLAGS)


class CommentQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(state=CommentState.VISIBLE)

    def top_level(self):
        return self.filter(parent__isnull=True)

    def flagged_open(self):
        """In the moderators' flagged tab: open (unreviewed) flags on a comment that is still up or only hidden."""
        return self.filter(open_flag_count__gt=0, state__in=FLAGGABLE_STATES)


class Comment(models.Model):
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    # The top-level comment of the thread (itself for a top-level comment), set with the path.
    root = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    # Null only between the insert and the update that follows it in the same transaction: NULLs are distinct, so
    # the unique constraint holds for concurrent inserts, where an empty string would collide.
    path = models.CharField(max_length=1400, null=True, blank=True, editable=False)  # noqa: DJ001
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    body_source = models.TextField(blank=True, help_text=_("What the reader typed; kept for editing."))
    body_html = models.TextField(blank=True, help_text=_("The sanitised HTML that pages show."))
    state = models.CharField(max_length=20, choices=CommentState.choices, default=CommentState.VISIBLE)
    # Why a comment is held or removed; shown to its author.
    state_reason = models.CharField(max_length=300, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # On a top-level comment: visible replies anywhere in its thread ("most replies" sort). Kept in SQL by services.
    thread_reply_count = models.PositiveIntegerField(default=0, editable=False)
    # Flags not yet reviewed by a moderator ("most flagged first"). Kept in SQL by services.
    open_flag_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Which step of the pipeline held it (comments.services.pipeline), for moderators; state_reason says why in
    # plain words for its author.
    held_by_step = models.CharField(max_length=20, blank=True, default="")
    # Its words with case, spacing and punctuation folded away, hashed: the repeats step compares these.
    fingerprint = models.CharField(max_length=40, blank=True, default="")
    # Picked by a moderator to show first, with a mark (comments.services.moderation.comment_feature).
    featured_at = models.DateTimeField(null=True, blank=True, editable=False)
    featured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["path"], name="comment_path_unique"),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, depth=0) | Q(parent__isnull=False, depth__gt=0),
                name="comment_depth_matches_parent",
            ),
        ]
        indexes = [
            models.Index(
                fields=["article", "-featured_at"], condition=Q(featured_at__isnull=False), name="comment_featured_idx"
            ),
            models.Index(fields=["article", "path"], name="comment_article_path_idx"),
            models.Index(fields=["root", "path"], name="comment_root_path_idx"),
            models.Index(
                F("open_flag_count").desc(),
                "created_at",
                name="comment_flag_queue_idx",
                condition=Q(open_flag_count__gt=0),
            ),
            models.Index(fields=["state", "created_at"], name="comment_state_idx"),
            models.Index(fields=["author", "created_at"], name="comment_author_idx"),
            models.Index(
                fields=["fingerprint", "created_at"], condition=~Q(fingerprint=""), name="comment_fingerprint_idx"
            ),
        ]
        permissions = [("moderate_comment", "Can moderate comments and readers")]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.article_id}"

    def get_absolute_url(self) -> str:
        return reverse("comments:permalink", args=[self.pk])

    @property
    def anchor(self) -> str:
        return f"c{self.pk}"

    @property
    def is_visible(self) -> bool:
        return self.state == CommentState.VISIBLE

    def editable_until(self):
        return self.created_at + timezone.timedelta(seconds=settings.VIGIL_COMMENTS_EDIT_WINDOW_SECONDS)

    def can_be_edited_by(self, user, *, now=None) -> bool:
        now = now or timezone.now()
        return (
            user is not None
            and user.is_authenticated
            and self.author_id == user.pk
            and self.state in (CommentState.VISIBLE, CommentState.HELD)
            and now <= self.editable_until()
        )


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam")
    HARASSMENT = "harassment", _("Harassment")
    HATE = "hate", _("Hate")
    PERSONAL_INFORMATION = "personal_information", _("Personal information")
    OFF_TOPIC = "off_topic", _("Off-topic")
    OTHER = "other", _("Other (please say)")


class CommentFlag(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_flags")
    reason = models.CharField(max_length=24, choices=FlagReason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a moderator decides on the comment; a reversed decision reopens the flags it closed.
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by_action = models.ForeignKey(
        "ModerationAction", on_delete=models.SET_NULL, null=True, blank=True, related_name="reviewed_flags"
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="comment_flag_one_per_reader"),
            models.CheckConstraint(condition=~Q(reason="other") | ~Q(note=""), name="comment_flag_other_has_note"),
        ]
        indexes = [
            models.Index(fields=["comment"], condition=Q(reviewed_at__isnull=True), name="comment_flag_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on comment {self.comment_id}"


class WatchedPattern(models.Model):
    """A word or pattern that holds a comment for review. Moderators manage the list at /moderation/patterns/."""

    pattern = models.CharField(max_length=200)
    is_regex = models.BooleanField(
        default=False, help_text=_("A regular expression (case-insensitive) rather than a whole word or phrase.")
    )
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pattern"]
        constraints = [
            models.UniqueConstraint(fields=["pattern", "is_regex"], name="watched_pattern_unique"),
            models.CheckConstraint(condition=~Q(pattern=""), name="watched_pattern_not_empty"),
        ]

    def __str__(self) -> str:
        return self.pattern


class SuspensionQuerySet(models.QuerySet):
    def active(self, *, now=None):
        now = now or timezone.now()
        return self.filter(lifted_at__isnull=True).filter(Q(until__isnull=True) | Q(until__gt=now))


class Suspension(models.Model):
    """A reader kept from commenting until a time, or for good (a ban: no end)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_suspensions")
    until = models.DateTimeField(null=True, blank=True, help_text=_("Empty: a ban, with no end."))
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SuspensionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "lifted_at"], name="suspension_user_idx")]

    def __str__(self) -> str:
        return f"{'Ban' if self.until is None else 'Suspension'} of {self.user_id}"

    @property
    def is_ban(self) -> bool:
        return self.until is None


class ModerationActionKind(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REMOVE = "remove", _("Removed")
    SUSPEND = "suspend", _("Suspended the author")
    BAN = "ban", _("Banned the author")
    HIDE_ALL = "hide_all", _("Hid all of an account's comments")
    RESTORE = "restore", _("Reversed a decision")
    FEATURE = "feature", _("Featured a comment")
    UNFEATURE = "unfeature", _("Stopped featuring a comment")


class ModerationAction(models.Model):
    """One decision, on record: who, what, which comment (or account), why, when, and whether it was reversed."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_actions")
    action = models.CharField(max_length=12, choices=ModerationActionKind.choices)
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="moderation_actions"
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    suspension = models.ForeignKey(Suspension, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A hide-all or remove-and-suspend groups the per-comment actions it made; reversing it reverses them.
    group = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="members")
    reason = models.CharField(max_length=300, blank=True)
    # What the comment was before, so the decision can be reversed: {"state", "state_reason", "open_flag_count"}.
    previous = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal")
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["-created_at"], name="modaction_recent_idx"),
            models.Index(fields=["actor", "-created_at"], name="modaction_actor_idx"),
            models.Index(fields=["action", "-created_at"], name="modaction_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_id}"


class QueueCounter(models.Model):
    """The moderators' queue sizes, moved in SQL by the services as comments change; rebuilt by the reconcile job."""

    FLAGGED = "flagged"
    HELD = "held"

    kind = models.CharField(max_length=16, primary_key=True)
    count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind}: {self.count}"


class CommentPreferences(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_preferences")
    reply_notices = models.BooleanField(
        default=True, help_text=_("E-mail me when someone replies to one of my comments.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "comment preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user_id}"
