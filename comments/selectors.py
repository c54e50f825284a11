"""Reads for the discussion pages and the moderators' tools; each loads everything its page shows up front.

A discussion page costs a fixed number of queries however many comments it holds: the top-level threads of the
page (a count and a slice), then every comment of those threads in display order (one query on the path index),
then the viewer's own flags among them. Which comments the viewer may see is decided here, in Python, over that
ordered list, so that templates make no decisions.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from accounts.roles import EDITORS, MODERATORS
from articles.models import Article
from comments.models import (
    PATH_WIDTH,
    Comment,
    CommentFlag,
    CommentState,
    FlagReason,
    ModerationAction,
    ModerationActionKind,
    QueueCounter,
    Suspension,
    WatchedPattern,
)

SORTS = {
    "oldest": ("pk",),
    "newest": ("-pk",),
    "replies": ("-thread_reply_count", "-pk"),
}
DEFAULT_SORT = "oldest"
PLACEHOLDERS = {
    CommentState.DELETED_BY_AUTHOR: "[deleted]",
    CommentState.REMOVED: "[removed by a moderator]",
    CommentState.HIDDEN_BY_FLAGS: "[hidden while a moderator reviews it]",
    CommentState.HELD: "[awaiting review]",
}
OWN_NOTICES = {
    CommentState.HELD: "Awaiting review: only you can see this comment until a moderator approves it.",
    CommentState.HIDDEN_BY_FLAGS: "Hidden from others while a moderator reviews it.",
    CommentState.REMOVED: "Removed by a moderator. Only you can see it.",
}
RECENTLY_REMOVED_DAYS = 30


@dataclass
class DisplayComment:
    """One comment as a page shows it: its words (or a placeholder), where it sits, and what the viewer may do."""

    comment: Comment
    display_depth: int
    show_body: bool
    placeholder: str = ""
    own_notice: str = ""
    own_reason: str = ""
    in_reply_to_name: str = ""
    in_reply_to_anchor: str = ""
    at_depth_cap: bool = False
    is_own: bool = False
    is_target: bool = False
    can_reply: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_flag: bool = False
    flagged_by_viewer: bool = False
    author_name: str = ""
    author_badge: str = ""  # "Moderator" or "Editor": the site's own staff, marked on what they write
    featured: bool = False
    url: str = ""  # the permalink, with its anchor
    reply_url: str = ""
    flag_url: str = ""
    created_iso: str = ""
    created_display: str = ""


@dataclass
class DiscussionPage:
    article: Article
    page: Page
    comments: list[DisplayComment]
    sort: str
    sorts: list[tuple[str, str]] = field(default_factory=list)
    featured: list[Comment] = field(default_factory=list)  # picked by moderators, shown first


# The staff role shown beside a comment's author, read in the same query as the comments (a moderator who is also an
# editor is shown as the moderator).
STAFF_BADGES = {MODERATORS: _lazy("Moderator"), EDITORS: _lazy("Editor")}


def _with_staff_role(comments):
    memberships = User.groups.through.objects.filter(user_id=OuterRef("author_id"), group__name__in=list(STAFF_BADGES))
    return comments.annotate(author_staff_role=Subquery(memberships.order_by("-group__name").values("group__name")[:1]))


def _author_name(comment: Comment) -> str:
    return comment.author.public_name if comment.author_id else _("A former reader")


def _viewer_id(viewer) -> int | None:
    return viewer.pk if viewer is not None and viewer.is_authenticated else None


def _prepare(
    rows: list[Comment], *, viewer, article: Article, now: datetime, target_id: int | None = None
) -> list[DisplayComment]:
    """Decide, for rows in path order, what the viewer sees of each; drop what they may not see at all.

    Public: visible comments in full; any other comment only as a placeholder, and only when something under it is
    shown (so replies keep their place). Its author also sees their own held, hidden or removed comment, marked
    with the reason.
    """
    viewer_id = _viewer_id(viewer)
    cap = settings.VIGIL_COMMENTS_DISPLAY_DEPTH
    by_id = {row.pk: row for row in rows}
    shown_below: set[int] = set()
    keep: set[int] = set()
    for row in reversed(rows):
        own = viewer_id is not None and row.author_id == viewer_id
        visible_to_viewer = row.state == CommentState.VISIBLE or (
            own and row.state in (CommentState.HELD, CommentState.HIDDEN_BY_FLAGS, CommentState.REMOVED)
        )
        if visible_to_viewer or row.pk in shown_below or row.pk == target_id:
            keep.add(row.pk)
            if row.parent_id is not None:
                shown_below.add(row.parent_id)
    open_for_writing = article.comments_open
    # Reversed once per page, not once per comment: a 2,000-comment page would otherwise spend its time in reverse().
    permalink, reply, flag = (
        reverse(f"comments:{name}", args=[0]).replace("/0/", "/{}/") for name in ("permalink", "reply", "flag")
    )
    result = []
    for row in rows:
        if row.pk not in keep:
            continue
        own = viewer_id is not None and row.author_id == viewer_id
        show_body = row.state == CommentState.VISIBLE or (
            own and row.state in (CommentState.HELD, CommentState.HIDDEN_BY_FLAGS, CommentState.REMOVED)
        )
        parent = by_id.get(row.parent_id) if row.parent_id else None
        item = DisplayComment(
            comment=row,
            display_depth=min(row.depth, cap),
            show_body=show_body,
            placeholder="" if show_body else PLACEHOLDERS.get(row.state, ""),
            own_notice=OWN_NOTICES.get(row.state, "") if own and show_body else "",
            own_reason=row.state_reason if own and show_body and row.state != CommentState.VISIBLE else "",
            at_depth_cap=row.depth > cap,
            is_own=own,
            is_target=row.pk == target_id,
            author_name=_author_name(row) if show_body else "",
            author_badge=str(STAFF_BADGES.get(getattr(row, "author_staff_role", None), "")) if show_body else "",
            featured=row.featured_at is not None and row.state == CommentState.VISIBLE,
            url=permalink.format(row.pk) + f"#{row.anchor}",
        )
        created = timezone.localtime(row.created_at)
        item.created_iso = created.isoformat()
        item.created_display = f"{created.day} {created:%b %Y, %H:%M}"
        if parent is not None:
            item.in_reply_to_name = _author_name(parent) if parent.state == CommentState.VISIBLE else _("a comment")
            item.in_reply_to_anchor = parent.anchor
        if row.state == CommentState.VISIBLE:
            item.can_reply = open_for_writing
            item.can_flag = viewer_id is not None and not own
            item.reply_url, item.flag_url = reply.format(row.pk), flag.format(row.pk)
        if own and show_body:
            item.can_edit = open_for_writing and row.can_be_edited_by(viewer, now=now)
            item.can_delete = row.state != CommentState.REMOVED
        result.append(item)
    return result


def _mark_viewer_flags(items: list[DisplayComment], *, viewer) -> None:
    viewer_id = _viewer_id(viewer)
    if viewer_id is None or not items:
        return
    flagged = set(
        CommentFlag.objects.filter(user_id=viewer_id, comment_id__in=[i.comment.pk for i in items]).values_list(
            "comment_id", flat=True
        )
    )
    for item in items:
        if item.comment.pk in flagged:
            item.flagged_by_viewer = True
            item.can_flag = False


def article_for_discussion(*, slug: str, user) -> Article:
    """The article whose discussion is asked for: published, or any state for staff who may preview."""
    queryset = Article.objects.select_related("section")
    if not (user.is_authenticated and user.has_perm("articles.preview_article")):
        queryset = queryset.published()
    article = queryset.filter(slug=slug).first()
    if article is None:
        raise Http404("No article at this address.")
    return article


def discussion_page(
    *, article: Article, viewer, page_number=None, sort: str = DEFAULT_SORT, now: datetime | None = None
) -> DiscussionPage:
    """One page of an article's discussion: top-level threads (by `sort`) with all their replies, in display order."""
    now = now or timezone.now()
    sort = sort if sort in SORTS else DEFAULT_SORT
    viewer_id = _viewer_id(viewer)
    shown = Q(state=CommentState.VISIBLE) | Q(thread_reply_count__gt=0)
    if viewer_id is not None:
        shown |= Q(author_id=viewer_id) & ~Q(state=CommentState.DELETED_BY_AUTHOR)
    roots = Comment.objects.filter(article=article, parent__isnull=True).filter(shown).order_by(*SORTS[sort])
    page = Paginator(roots.only("pk"), settings.VIGIL_COMMENTS_THREADS_PER_PAGE).get_page(page_number)
    root_ids = [root.pk for root in page.object_list]
    rows = (
        list(_with_staff_role(Comment.objects.filter(root_id__in=root_ids)).select_related("author").order_by("path"))
        if root_ids
        else []
    )
    position = {root_id: index for index, root_id in enumerate(root_ids)}
    rows.sort(key=lambda row: position[row.root_id])  # stable: path order kept inside each thread
    items = _prepare(rows, viewer=viewer, article=article, now=now)
    _mark_viewer_flags(items, viewer=viewer)
    sorts = [("oldest", _("Oldest first")), ("newest", _("Newest first")), ("replies", _("Most replies"))]
    featured = list(
        Comment.objects.filter(article=article, featured_at__isnull=False, state=CommentState.VISIBLE)
        .select_related("author")
        .order_by("-featured_at")[: settings.VIGIL_COMMENTS_FEATURED_SHOWN]
    )
    return DiscussionPage(article=article, page=page, comments=items, sort=sort, sorts=sorts, featured=featured)


def path_ancestor_ids(path: str) -> list[int]:
    """The ids of a comment's ancestors, read from its path (every segment but the last)."""
    segments = [path[i : i + PATH_WIDTH] for i in range(0, len(path), PATH_WIDTH)]
    return [int(segment, 36) for segment in segments[:-1]]


@dataclass
class CommentContext:
    comment: Comment
    article: Article
    comments: list[DisplayComment]


def comment_in_context(*, comment_id: int, viewer, now: datetime | None = None) -> CommentContext:
    """A comment's permalink page: the chain of comments above it, it, and everything below it."""
    now = now or timezone.now()
    comment = Comment.objects.select_related("article", "article__section").filter(pk=comment_id).first()
    can_preview = viewer.is_authenticated and viewer.has_perm("articles.preview_article")
    if comment is None or comment.path is None or not (comment.article.is_public(now=now) or can_preview):
        raise Http404("No comment at this address.")
    rows = list(
        _with_staff_role(
            Comment.objects.filter(
                Q(pk__in=path_ancestor_ids(comment.path)) | Q(root_id=comment.root_id, path__startswith=comment.path)
            )
        )
        .select_related("author")
        .order_by("path")
    )
    items = _prepare(rows, viewer=viewer, article=comment.article, now=now, target_id=comment.pk)
    _mark_viewer_flags(items, viewer=viewer)
    return CommentContext(comment=comment, article=comment.article, comments=items)


def comment_for_reader(*, comment_id: int, viewer, now: datetime | None = None) -> Comment:
    """A comment a reader acts on by its id (to flag it): only under an article the public can see (or the viewer
    may preview), so that an id never shows a comment of a draft."""
    comment = Comment.objects.select_related("article", "author").filter(pk=comment_id).first()
    can_preview = viewer.is_authenticated and viewer.has_perm("articles.preview_article")
    if comment is None or not (comment.article.is_public(now=now or timezone.now()) or can_preview):
        raise Http404("No comment at this address.")
    return comment


def comment_for_author_action(*, comment_id: int) -> Comment:
    comment = Comment.objects.select_related("article", "author").filter(pk=comment_id).first()
    if comment is None:
        raise Http404("No comment at this address.")
    return comment


# --- moderators -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueCounts:
    flagged: int
    held: int

    @property
    def open(self) -> int:
        return self.flagged + self.held


def moderation_queue_counts_for_header(*, user) -> QueueCounts | None:
    """The queue sizes for a moderator, from the kept counters: one query, which returns nothing for anyone else."""
    if not user.is_authenticated:
        return None
    rows = QueueCounter.objects.all()
    if not user.is_superuser:
        rows = rows.filter(Exists(User.groups.through.objects.filter(user_id=user.pk, group__name=MODERATORS)))
    counts = dict(rows.values_list("kind", "count"))
    if not counts and not user.is_superuser:
        return None
    return QueueCounts(
        flagged=max(counts.get(QueueCounter.FLAGGED, 0), 0), held=max(counts.get(QueueCounter.HELD, 0), 0)
    )


QUEUE_TABS = ("flagged", "held", "removed")


def moderation_queue_page(*, tab: str, page_number=None, now: datetime | None = None) -> Page:
    """One page of a queue tab, its comments with article, author, parent and flags loaded in a fixed few queries."""
    now = now or timezone.now()
    comments = Comment.objects.select_related("article", "author", "parent", "parent__author")
    if tab == "held":
        queryset = comments.filter(state=CommentState.HELD).order_by("created_at", "pk")
    elif tab == "removed":
        since = now - timedelta(days=RECENTLY_REMOVED_DAYS)
        queryset = comments.filter(state=CommentState.REMOVED, state_changed_at__gte=since).order_by(
            "-state_changed_at", "-pk"
        )
    else:
        queryset = comments.flagged_open().order_by("-open_flag_count", "created_at", "pk")
    flags = CommentFlag.objects.order_by("created_at")
    if tab != "removed":
        flags = flags.filter(reviewed_at__isnull=True)
    queryset = queryset.prefetch_related(
        Prefetch("flags", queryset=flags, to_attr="shown_flags"),
        Prefetch(
            "moderation_actions",
            queryset=ModerationAction.objects.filter(
                action=ModerationActionKind.REMOVE, reversed_at__isnull=True
            ).select_related("actor"),
            to_attr="open_removals",
        ),
    )
    page = Paginator(queryset, settings.VIGIL_COMMENTS_QUEUE_PAGE_SIZE).get_page(page_number)
    labels = dict(FlagReason.choices)
    for comment in page.object_list:
        tally: dict[str, int] = {}
        for flag in comment.shown_flags:
            tally[flag.reason] = tally.get(flag.reason, 0) + 1
        comment.flag_summary = [(labels.get(reason, reason), count) for reason, count in tally.items()]
        comment.flag_notes = [flag.note for flag in comment.shown_flags if flag.note]
        comment.removal_action = comment.open_removals[0] if comment.open_removals else None
    return page


@dataclass
class AuditFilters:
    action: str = ""
    actor_id: int | None = None
    target_user_id: int | None = None
    comment_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


def moderation_audit_page(*, filters: AuditFilters, page_number=None) -> Page:
    queryset = ModerationAction.objects.select_related(
        "actor", "comment", "comment__article", "target_user", "reversed_by", "reverses"
    )
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    if filters.actor_id:
        queryset = queryset.filter(actor_id=filters.actor_id)
    if filters.target_user_id:
        queryset = queryset.filter(target_user_id=filters.target_user_id)
    if filters.comment_id:
        queryset = queryset.filter(comment_id=filters.comment_id)
    if filters.date_from:
        queryset = queryset.filter(created_at__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(created_at__lt=filters.date_to)
    return Paginator(queryset.order_by("-created_at", "-pk"), 50).get_page(page_number)


def moderators() -> list[User]:
    return list(User.objects.filter(groups__name=MODERATORS).order_by("display_name", "pk"))


def reader_for_moderation(*, user_id: int) -> tuple[User, list[Suspension], int]:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise Http404("No such account.")
    suspensions = list(Suspension.objects.filter(user=user).select_related("created_by", "lifted_by")[:20])
    return user, suspensions, Comment.objects.filter(author=user).count()


def watched_patterns_page(*, page_number=None) -> Page:
    return Paginator(WatchedPattern.objects.select_related("created_by"), 50).get_page(page_number)
