"""Counters kept in SQL as comments change, and the job that rebuilds them from the rows they count.

- `Article.comment_count`: visible comments on the article (lists and pages show it without a query).
- `Comment.thread_reply_count` on a top-level comment: visible replies anywhere in its thread ("most replies").
- `Comment.open_flag_count`: flags no moderator has reviewed yet ("most flagged first").
- `QueueCounter` rows "flagged" and "held": the sizes of the moderators' queue, shown in the header.

Every change is an UPDATE with an F() expression, made while the comment's row is locked by the service that changes
its state, so concurrent moves cannot lose an update. `comment_counts_reconcile` recomputes all of them.
"""

from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from articles.models import Article
from comments.models import FLAGGABLE_STATES, Comment, CommentFlag, CommentState, QueueCounter


def _plus(field: str, delta: int):
    return Greatest(F(field) + delta, Value(0)) if delta < 0 else F(field) + delta


def queue_counter_move(*, kind: str, delta: int) -> None:
    if not delta:
        return
    if not QueueCounter.objects.filter(kind=kind).update(count=F("count") + delta):
        QueueCounter.objects.get_or_create(kind=kind)
        QueueCounter.objects.filter(kind=kind).update(count=F("count") + delta)


def in_flag_queue(*, state: str, open_flag_count: int) -> bool:
    return open_flag_count > 0 and state in FLAGGABLE_STATES


def counts_apply_move(
    *,
    comment: Comment,
    old_state: str | None,
    new_state: str,
    old_open_flags: int = 0,
    new_open_flags: int = 0,
) -> None:
    """Move every counter a comment's change of state (or of open flags) touches. old_state None: a new comment."""
    was_visible = old_state == CommentState.VISIBLE
    is_visible = new_state == CommentState.VISIBLE
    if was_visible != is_visible:
        delta = 1 if is_visible else -1
        Article.objects.filter(pk=comment.article_id).update(comment_count=_plus("comment_count", delta))
        if comment.parent_id is not None:
            Comment.objects.filter(pk=comment.root_id).update(thread_reply_count=_plus("thread_reply_count", delta))
    was_held = old_state == CommentState.HELD
    is_held = new_state == CommentState.HELD
    if was_held != is_held:
        queue_counter_move(kind=QueueCounter.HELD, delta=1 if is_held else -1)
    was_flagged = old_state is not None and in_flag_queue(state=old_state, open_flag_count=old_open_flags)
    is_flagged = in_flag_queue(state=new_state, open_flag_count=new_open_flags)
    if was_flagged != is_flagged:
        queue_counter_move(kind=QueueCounter.FLAGGED, delta=1 if is_flagged else -1)


def _count_of(queryset, field: str = "pk"):
    return Coalesce(Subquery(queryset.annotate(n=Count(field)).values("n")[:1], output_field=IntegerField()), 0)


def comment_counts_reconcile() -> dict[str, int]:
    """Rebuild every counter from the rows it counts; returns how many rows each step corrected."""
    visible_on_article = (
        Comment.objects.filter(article=OuterRef("pk"), state=CommentState.VISIBLE).order_by().values("article")
    )
    articles_fixed = (
        Article.objects.annotate(actual=_count_of(visible_on_article))
        .exclude(comment_count=F("actual"))
        .update(comment_count=_count_of(visible_on_article))
    )
    replies_in_thread = (
        Comment.objects.filter(root=OuterRef("pk"), parent__isnull=False, state=CommentState.VISIBLE)
        .order_by()
        .values("root")
    )
    threads_fixed = (
        Comment.objects.filter(parent__isnull=True)
        .annotate(actual=_count_of(replies_in_thread))
        .exclude(thread_reply_count=F("actual"))
        .update(thread_reply_count=_count_of(replies_in_thread))
    )
    open_flags = (
        CommentFlag.objects.filter(comment=OuterRef("pk"), reviewed_at__isnull=True).order_by().values("comment")
    )
    flags_fixed = (
        Comment.objects.annotate(actual=_count_of(open_flags))
        .exclude(open_flag_count=F("actual"))
        .update(open_flag_count=_count_of(open_flags))
    )
    for kind, actual in (
        (QueueCounter.FLAGGED, Comment.objects.flagged_open().count()),
        (QueueCounter.HELD, Comment.objects.filter(state=CommentState.HELD).count()),
    ):
        QueueCounter.objects.update_or_create(kind=kind, defaults={"count": actual})
    return {"articles": articles_fixed, "threads": threads_fixed, "flags": flags_fixed}
