"""Reply notices: an e-mail to a comment's author when someone replies, unless they turned it off.

The message is written to the outbox inside the transaction that makes the reply visible (posting it, or a
moderator approving it), with an idempotency key per reply, so it is stored at most once; Celery delivers it after
that transaction commits. A rolled-back reply sends nothing.
"""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from comments.models import Comment, CommentPreferences, CommentState
from core.links import absolute_url
from core.mail import outbound_email_queue
from core.sanitize import strip_tags_to_text

UNSUBSCRIBE_SALT = "comments.reply-notices.unsubscribe"


def reply_notices_wanted(*, user: User) -> bool:
    preferences = CommentPreferences.objects.filter(user=user).first()
    return preferences is None or preferences.reply_notices


def comment_preferences_set(*, user: User, reply_notices: bool) -> CommentPreferences:
    preferences, _created = CommentPreferences.objects.update_or_create(
        user=user, defaults={"reply_notices": reply_notices}
    )
    return preferences


def unsubscribe_token(*, user: User) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_user(*, token: str) -> User | None:
    """The account a signed unsubscribe token names, or None if it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=data.get("u")).first()


def comment_reply_notice_queue(*, reply: Comment, parent: Comment) -> bool:
    """Store the notice for `reply` in the outbox (once per reply); True if a message was queued."""
    recipient = parent.author if parent.author_id else None
    if (
        recipient is None
        or not recipient.email
        or not recipient.is_active
        or recipient.pk == reply.author_id
        or parent.state != CommentState.VISIBLE
        or not reply_notices_wanted(user=recipient)
    ):
        return False
    article = reply.article
    replier = reply.author.public_name if reply.author_id else "Someone"
    context = {
        "recipient": recipient,
        "replier": replier,
        "article": article,
        "reply_text": strip_tags_to_text(reply.body_html)[:600],
        "reply_url": absolute_url(reply.get_absolute_url()),
        "unsubscribe_url": absolute_url(reverse("comments:unsubscribe", args=[unsubscribe_token(user=recipient)])),
        "SITE_NAME": settings.SITE_NAME,
    }
    message = EmailMultiAlternatives(
        subject=f"[{settings.SITE_NAME}] {replier} replied to your comment on “{article.title}”",
        body=render_to_string("comments/email/reply_notice.txt", context),
        to=[recipient.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    return outbound_email_queue(message, idempotency_key=f"comments:reply-notice:{reply.pk}") is not None
