"""E-mail through the transactional outbox.

Django's EMAIL_BACKEND is OutboxBackend: `send_mail()` anywhere in the project (allauth's messages included) writes
an OutboundEmail row and queues its delivery for after the surrounding transaction commits. The real transport is
VIGIL_EMAIL_DELIVERY_BACKEND (SMTP in production, the console in development).
"""

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid
from django.db import IntegrityError, transaction

from core.models import OutboundEmail


def _html_alternative(message: EmailMessage) -> str:
    for content, mimetype in getattr(message, "alternatives", []) or []:
        if mimetype == "text/html":
            return content
    if message.content_subtype == "html":
        return message.body
    return ""


def outbound_email_queue(message: EmailMessage, *, idempotency_key: str = "") -> OutboundEmail | None:
    """Store one message in the outbox and queue its delivery after commit.

    With an idempotency key that was used before, nothing new is stored and None is returned.
    """
    from core.tasks import outbound_email_send_task

    headers = dict(message.extra_headers)
    # Fixed now, so a retried delivery carries the same Message-ID and receivers can spot a duplicate.
    headers.setdefault("Message-ID", make_msgid(domain=settings.VIGIL_MAIL_DOMAIN))
    row = OutboundEmail(
        idempotency_key=idempotency_key,
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        headers=headers,
        message_id=headers["Message-ID"],
        subject=message.subject,
        body_text=message.body if message.content_subtype != "html" else "",
        body_html=_html_alternative(message),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        if idempotency_key and OutboundEmail.objects.filter(idempotency_key=idempotency_key).exists():
            return None
        raise
    # robust: if the broker is down at this moment the change stays committed and the sweep sends the message later.
    transaction.on_commit(lambda: outbound_email_send_task.delay(row.pk), robust=True)
    return row


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        count = 0
        for message in email_messages:
            if outbound_email_queue(message) is not None:
                count += 1
        return count


def delivery_message(row: OutboundEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=row.from_email,
        to=row.to,
        cc=row.cc,
        bcc=row.bcc,
        reply_to=row.reply_to,
        headers=row.headers,
        connection=get_connection(settings.VIGIL_EMAIL_DELIVERY_BACKEND),
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    for item in row.attachments:
        with open(item["path"], "rb") as handle:
            message.attach(item["filename"], handle.read(), item.get("mimetype"))
    return message
