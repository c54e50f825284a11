"""E-mail through the transactional outbox.

Django's EMAIL_BACKEND is OutboxBackend: `send_mail()` anywhere in the project (allauth's messages included) writes
an OutboundEmail row and queues its delivery for after the surrounding transaction commits. The real transport is
VIGIL_EMAIL_DELIVERY_BACKEND (SMTP in production, the console in development).

Mail written in bulk on a hot path (signature confirmations, thousands a second in a surge) takes a cheaper road:
the caller inserts the row itself, unrendered (`render_kind` + `render_context`, rendered at delivery by the
renderer that settings.VIGIL_OUTBOX_RENDERERS names), and calls `outbound_email_pump_soon()` instead of
publishing one Celery message per e-mail. The outbox pump (core.services.outbox.outbound_email_pump, run by beat every
second and nudged at most once a second per process) claims unsent rows in batches and delivers them. A publish and
two rendered templates per message would add milliseconds to every signing request (bench/README.md, "Measured
history").
"""

import logging
import time

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid
from django.db import IntegrityError, transaction

from core.jobs import enqueue
from core.models import OutboundEmail
from core.storage import private_storage

logger = logging.getLogger(__name__)


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
    enqueue("core.tasks.outbound_email_send_task", row.pk)
    return row


# Monotonic time of this process's last nudge to the pump; shared by threads, which may at worst both nudge.
_pump_nudged_at = float("-inf")


def outbound_email_pump_soon(*, email_id: int | None = None) -> None:
    """Have the outbox delivered soon after the current transaction commits, without a message per e-mail.

    - Eager mode (`make run`: no broker, no beat): deliver `email_id` in-process after commit, as send_mail does.
    - Otherwise: beat runs the pump every VIGIL_OUTBOX_PUMP_SECONDS anyway; this nudges it at most once per
      VIGIL_OUTBOX_PUMP_NUDGE_SECONDS per process, so a lone signer's mail leaves in milliseconds while a surge
      costs one publish a second, not one per signature. A failed publish (broker down) is logged and changes
      nothing: the row is committed, and the next pump run sends it.
    """
    global _pump_nudged_at
    if settings.CELERY_TASK_ALWAYS_EAGER:
        if email_id is not None:
            enqueue("core.tasks.outbound_email_send_task", email_id)
        return
    now = time.monotonic()
    if now - _pump_nudged_at < settings.VIGIL_OUTBOX_PUMP_NUDGE_SECONDS:
        return
    _pump_nudged_at = now
    enqueue("core.tasks.outbound_email_pump_task")


class MailWithheld(Exception):  # noqa: N818 (not an error: a message that must not go)
    """Raised by a renderer when its message must not be sent at all (its person unsubscribed or withdrew after it
    was written). Delivery then finishes the row as withheld, without retrying; the message says why."""


def outbound_email_render(row: OutboundEmail) -> None:
    """Fill in a deferred row's subject and bodies from its renderer, in memory (they are not stored: the same row
    renders to the same message, at delivery, on a retry, or for a person reading the outbox)."""
    if not row.render_kind or row.body_text:
        return
    from django.utils.module_loading import import_string

    renderer = import_string(settings.VIGIL_OUTBOX_RENDERERS[row.render_kind])
    _rendered(row, renderer(row.render_context))


def outbound_email_render_many(rows: list[OutboundEmail]) -> None:
    """Render a batch of deferred rows, letting each renderer read what the batch needs at once (a renderer may
    offer `renderer.preload(contexts)`, whose result it takes as `preloaded`). A row that fails to render is left
    unrendered: delivery renders it again and records the failure on that row alone."""
    from django.utils.module_loading import import_string

    by_kind: dict[str, list[OutboundEmail]] = {}
    for row in rows:
        if row.render_kind and not row.body_text:
            by_kind.setdefault(row.render_kind, []).append(row)
    for kind, group in by_kind.items():
        renderer = import_string(settings.VIGIL_OUTBOX_RENDERERS[kind])
        preload = getattr(renderer, "preload", None)
        if preload is None:
            continue
        preloaded = preload([row.render_context for row in group])
        for row in group:
            try:
                _rendered(row, renderer(row.render_context, preloaded=preloaded))
            except Exception:  # rendered again, and the failure recorded, when the row is delivered
                continue


def _rendered(row: OutboundEmail, result: tuple) -> None:
    """A renderer gives (subject, text, html), or (subject, text, html, headers) when the message needs headers
    of its own (a mailing's unsubscribe link), which are added to the row's in memory."""
    row.subject, row.body_text, row.body_html = result[:3]
    if len(result) > 3:
        row.headers = {**row.headers, **result[3]}


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        count = 0
        for message in email_messages:
            if outbound_email_queue(message) is not None:
                count += 1
        return count


def delivery_message(row: OutboundEmail, *, connection=None) -> EmailMultiAlternatives:
    """The message to hand to the transport; a deferred row is rendered first (see outbound_email_render)."""
    outbound_email_render(row)
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=row.from_email,
        to=row.to,
        cc=row.cc,
        bcc=row.bcc,
        reply_to=row.reply_to,
        headers=row.headers,
        connection=connection or get_connection(settings.VIGIL_EMAIL_DELIVERY_BACKEND),
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    for item in row.attachments:
        # A private file by its storage name, so that any worker on any host can read it; "path" is how rows written
        # before object storage name theirs.
        handle = private_storage().open(item["private"], "rb") if "private" in item else open(item["path"], "rb")  # noqa: SIM115
        with handle:
            message.attach(item["filename"], handle.read(), item.get("mimetype"))
    return message
