"""A reader's own data, as a file they can download: their account's public name and address, everything they
wrote under it (each comment with its article, its place in the thread, its state and its words as they typed
them), and the flags they raised. Only what they gave or what happened to it: no moderator's note, no one else's
words, no hashed address."""

from datetime import datetime

from django.utils import timezone

from accounts.models import User
from comments.models import Comment, CommentFlag


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def reader_data_export(*, user: User, now: datetime | None = None) -> dict:
    comments = (
        Comment.objects.filter(author=user)
        .select_related("article")
        .only("pk", "parent_id", "body_source", "state", "created_at", "edited_at", "article__title")
        .order_by("created_at", "pk")
    )
    flags = (
        CommentFlag.objects.filter(user=user)
        .select_related("comment__article")
        .only("comment_id", "reason", "note", "created_at", "comment__article__title")
        .order_by("created_at", "pk")
    )
    return {
        "exported_at": (now or timezone.now()).isoformat(),
        "account": {"display_name": user.display_name, "email": user.email, "joined": _iso(user.date_joined)},
        "comments": [
            {
                "id": comment.pk,
                "article": comment.article.title,
                "address": comment.get_absolute_url(),
                "in_reply_to": comment.parent_id,
                "written_at": _iso(comment.created_at),
                "edited_at": _iso(comment.edited_at),
                "state": comment.state,
                "text": comment.body_source,
            }
            for comment in comments.iterator(chunk_size=500)
        ],
        "flags": [
            {
                "comment": flag.comment_id,
                "article": flag.comment.article.title,
                "reason": flag.reason,
                "note": flag.note,
                "raised_at": _iso(flag.created_at),
            }
            for flag in flags.iterator(chunk_size=500)
        ],
    }
