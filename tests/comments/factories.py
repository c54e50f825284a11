"""Comments in the states tests need, made through the services (or in bulk for size tests)."""

from django.db import transaction
from django.test.utils import override_settings

from comments.models import Comment, CommentState, path_segment
from comments.services.counts import comment_counts_reconcile
from comments.services.writing import comment_create
from tests.factories import PublishedArticleFactory, VerifiedUserFactory


def post(*, article=None, author=None, text="A fair point, well made.", parent=None) -> Comment:
    """A visible comment (no holding for new accounts, unless the test turned it back on)."""
    article = article or (parent.article if parent else PublishedArticleFactory())
    author = author or VerifiedUserFactory()
    with override_settings(VIGIL_COMMENTS_HOLD_FIRST=0):
        return comment_create(article=article, author=author, text=text, parent=parent)


@transaction.atomic
def discussion_bulk_build(*, article, authors, threads: int, per_thread: int, max_depth: int) -> int:
    """`threads` top-level comments, each with `per_thread - 1` replies spread down to `max_depth`; bulk inserts.

    Replies form a chain down to max_depth and then fan out again from the top, so every thread reaches the depth.
    Paths are made exactly as the service makes them (own id appended to the parent's path). Returns the count.
    """
    roots = Comment.objects.bulk_create(
        [
            Comment(
                article=article,
                author=authors[i % len(authors)],
                body_source=f"Thread {i}",
                body_html=f"<p>Thread {i}</p>",
            )
            for i in range(threads)
        ]
    )
    for root in roots:
        root.path, root.root_id = path_segment(root.pk), root.pk
    Comment.objects.bulk_update(roots, ["path", "root"])
    # parents[level] = comments at that depth, per thread
    frontier = {root.pk: [root] for root in roots}  # thread -> chain of latest comment per depth
    remaining = per_thread - 1
    made = len(roots)
    step = 0
    while remaining > 0:
        depth = step % max_depth + 1
        batch = []
        for root in roots:
            parent = frontier[root.pk][depth - 1]
            batch.append(
                Comment(
                    article=article,
                    author=authors[(step + root.pk) % len(authors)],
                    parent=parent,
                    root_id=root.pk,
                    depth=depth,
                    body_source=f"Reply {step}",
                    body_html=f"<p>Reply {step} at depth {depth}: I see it <em>differently</em>.</p>",
                )
            )
        created = Comment.objects.bulk_create(batch)
        for comment in created:
            comment.path = comment.parent.path + path_segment(comment.pk)
            chain = frontier[comment.root_id]
            if len(chain) > depth:
                chain[depth] = comment
            else:
                chain.append(comment)
        Comment.objects.bulk_update(created, ["path"])
        made += len(created)
        remaining -= 1
        step += 1
    comment_counts_reconcile()
    return made


__all__ = ["CommentState", "discussion_bulk_build", "post"]
