"""E-mailing an update to the petition's signers who agreed to hear from the organisers.

The path of a mailing:
1. A member who writes updates asks for it (`update_mailing_request`); the other owners are e-mailed.
2. A second member, holding the owner role, approves it (`update_mailing_approve`). The petition's row is locked
   while the weekly limit is checked, so two approvals at once cannot both pass it; a second click does nothing.
3. A worker queues one outbox message per signer (`update_mailing_queue`), in batches walked by signature id. Each
   batch's messages and the moved cursor commit together, and each message's key is unique per update and signer,
   so a worker killed mid-batch loses nothing and a batch run twice adds nothing.
4. The outbox pump sends them after any one-to-one mail. Each message is rendered when it is sent, and withheld if
   its signer has withdrawn, been erased or unsubscribed since it was queued.
5. The report (sent, withheld, failed, and who unsubscribed since) is counted from the messages until every one is
   finished, then kept on the mailing.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core.jobs import enqueue
from core.links import absolute_url, link_pattern
from core.mail import MailWithheld, outbound_email_pump_soon
from core.models import OutboundEmail
from core.sanitize import strip_tags_to_text
from petitions.models import (
    ENDING_KINDS,
    MailingState,
    MembershipRole,
    Petition,
    PetitionUpdate,
    UpdateMailing,
)
from petitions.selectors import petition_member_allows
from petitions.services.errors import PetitionError
from petitions.services.notices import petition_members_tell
from signatures.models import Signature, SignatureState
from signatures.services.subscriptions import subscriptions_token, unsubscribe_token

logger = logging.getLogger(__name__)


class MailingRefused(PetitionError):
    """The mailing cannot be asked for, approved or cancelled now; the message says why."""


def _audience(petition_id: int):
    return Signature.objects.filter(petition_id=petition_id, state=SignatureState.CONFIRMED, contact_ok=True)


def _check_mailable(*, petition: Petition, update: PetitionUpdate, now: datetime) -> None:
    if update.published_at is None:
        raise MailingRefused("Publish the update first: the e-mail links to it.")
    if not petition.is_public:
        raise MailingRefused("The petition is no longer public, so its updates cannot be e-mailed: they link to it.")
    if update.kind in ENDING_KINDS:
        return  # how the campaign ended may be told at any time
    days = settings.VIGIL_UPDATE_MAILING_DAYS_AFTER_CLOSE
    if petition.closed_at and now - petition.closed_at > timedelta(days=days):
        raise MailingRefused(
            f"The petition closed more than {days} days ago: only its response or outcome may still be e-mailed."
        )


def _check_weekly(*, petition: Petition, now: datetime) -> None:
    limit = settings.VIGIL_UPDATE_MAILINGS_PER_WEEK
    recent = list(
        UpdateMailing.objects.filter(petition=petition, approved_at__gt=now - timedelta(days=7))
        .order_by("approved_at")
        .values_list("approved_at", flat=True)
    )
    if len(recent) >= limit:
        allowed_on = recent[len(recent) - limit] + timedelta(days=7)
        raise MailingRefused(
            f"This petition's signers were e-mailed {len(recent)} time(s) in the last 7 days, the most allowed. "
            f"The next mailing can be approved from {allowed_on:%d %B %Y, %H:%M} UTC."
        )


def update_mailing_request(*, update: PetitionUpdate, by, now: datetime | None = None) -> UpdateMailing:
    """Ask for the update to be e-mailed; a second owner approves it. Asking again for one already asked for (or
    sent) returns that mailing; one that was cancelled is asked for anew."""
    now = now or timezone.now()
    petition = update.petition
    _check_mailable(petition=petition, update=update, now=now)
    if not _audience(petition.pk).exists():
        raise MailingRefused("No signer has agreed to hear from the organisers yet, so there is no one to e-mail.")
    _check_weekly(petition=petition, now=now)
    with transaction.atomic():
        mailing = UpdateMailing.objects.select_for_update().filter(update=update).first()
        if mailing is not None and mailing.state != MailingState.CANCELLED:
            return mailing
        if mailing is None:
            try:
                with transaction.atomic():
                    mailing = UpdateMailing.objects.create(
                        update=update, petition=petition, requested_by=by, requested_at=now
                    )
            except IntegrityError:  # asked for at the same moment by someone else
                return UpdateMailing.objects.get(update=update)
        else:
            UpdateMailing.objects.filter(pk=mailing.pk).update(
                state=MailingState.AWAITING_APPROVAL, requested_by=by, requested_at=now, cancelled_at=None
            )
            mailing.refresh_from_db()
        _owners_ask(mailing=mailing, update=update, by=by)
    return mailing


def _owners_ask(*, mailing: UpdateMailing, update: PetitionUpdate, by) -> None:
    petition = update.petition
    context = {
        "update": update,
        "asked_by": by.get_full_name() or by.email,
        "audience": _audience(petition.pk).count(),
        "update_url": absolute_url(reverse("petitions:organise_update", args=[petition.slug, update.number])),
    }
    petition_members_tell(
        petition=petition, role=MembershipRole.OWNER, subject=f"Approve a mailing: {update.title}",
        template="petitions/email/mailing_approval.txt", context=context, leave_out=(by.email,),
        idempotency_key=f"mailing-approval:{mailing.pk}:{int(mailing.requested_at.timestamp())}",
    )  # fmt: skip


def update_mailing_approve(*, mailing: UpdateMailing, by, now: datetime | None = None) -> bool:
    """Approve a mailing asked for by someone else, and start queueing it. True if this approved it; False if it
    was approved already (a second click). Refused for the person who asked, for a member who is not an owner, past
    the weekly limit, and when the update may no longer be mailed."""
    now = now or timezone.now()
    with transaction.atomic():
        # The petition first, as every writer of its mailings does: the weekly count is read under this lock.
        petition = Petition.objects.select_for_update().get(pk=mailing.petition_id)
        current = UpdateMailing.objects.select_for_update().select_related("update").get(pk=mailing.pk)
        if current.state != MailingState.AWAITING_APPROVAL:
            if current.state == MailingState.CANCELLED:
                raise MailingRefused("This mailing was cancelled: ask for it again.")
            return False
        if current.requested_by_id == by.pk:
            raise MailingRefused("You asked for this mailing: a second owner must approve it.")
        if not petition_member_allows(petition_id=petition.pk, user=by, role=MembershipRole.OWNER):
            raise MailingRefused("Only an owner of the petition can approve a mailing.")
        _check_mailable(petition=petition, update=current.update, now=now)
        _check_weekly(petition=petition, now=now)
        audience = _audience(petition.pk).count()
        if not audience:
            raise MailingRefused("No signer has agreed to hear from the organisers, so there is no one to e-mail.")
        UpdateMailing.objects.filter(pk=current.pk).update(
            state=MailingState.QUEUEING, approved_by=by, approved_at=now, audience=audience, heartbeat_at=now
        )
        enqueue("petitions.tasks.update_mailing_queue_task", current.pk)
    return True


def update_mailing_cancel(*, mailing: UpdateMailing, by, now: datetime | None = None) -> bool:
    """Cancel a mailing before it is approved, or stop one going out: no more messages are queued, and those
    queued but not yet sent are withheld. True if this cancelled it. Any member who writes updates may."""
    now = now or timezone.now()
    if not petition_member_allows(petition_id=mailing.petition_id, user=by, role=MembershipRole.ORGANISER):
        raise MailingRefused("Only the petition's organisers and owners can cancel a mailing.")
    with transaction.atomic():
        Petition.objects.select_for_update().filter(pk=mailing.petition_id).first()
        return bool(
            UpdateMailing.objects.filter(pk=mailing.pk, finished_at__isnull=True)
            .exclude(state=MailingState.CANCELLED)
            .update(state=MailingState.CANCELLED, cancelled_at=now)
        )


def update_mailing_queue(
    *, mailing_id: int, batch: int | None = None, max_seconds: float = 0, now: datetime | None = None
) -> bool:
    """Queue the mailing's next batch of messages, and more batches until `max_seconds` have passed. True while
    more remain: the task then queues itself again, so that other work (a surge's signatures, their e-mails) takes
    its turn between batches. Safe to run twice or concurrently: the mailing's row is locked for each batch, and
    the batch's messages and its moved cursor commit together."""
    batch = batch or settings.VIGIL_UPDATE_MAILING_BATCH
    started = timezone.now()
    while True:
        stamp = now or timezone.now()
        with transaction.atomic():
            mailing = UpdateMailing.objects.select_for_update().filter(pk=mailing_id).first()
            if mailing is None or mailing.state != MailingState.QUEUEING:
                return False
            write = _queue_batch_sql if connection.vendor == "postgresql" else _queue_batch_orm
            count, last_id = write(mailing=mailing, batch=batch, now=stamp)
            done = count < batch
            UpdateMailing.objects.filter(pk=mailing.pk).update(
                after_id=last_id or mailing.after_id,
                queued=mailing.queued + count,
                heartbeat_at=stamp,
                **({"state": MailingState.QUEUED, "queued_at": stamp} if done else {}),
            )
        outbound_email_pump_soon()
        if done:
            logger.info("Mailing %s queued: %s message(s)", mailing_id, mailing.queued + count)
            return False
        if (timezone.now() - started).total_seconds() >= max_seconds:
            return True


def _message_id(mailing: UpdateMailing) -> tuple[str, str]:
    """A mailing's Message-IDs are "<update-<update>.<signature>@domain>": the same on every attempt, so that a
    message handed over twice is one message to the mail servers."""
    return f"<{mailing.key.replace(':', '-')}.", f"@{settings.VIGIL_MAIL_DOMAIN}>"


# One statement per batch on PostgreSQL: the signers are read and their messages written inside the database, so
# queueing 150,000 costs no Python per message.
_QUEUE_SQL = """
WITH batch AS (
    SELECT id, email FROM signatures_signature
    WHERE petition_id = %(petition)s AND state = 'confirmed' AND contact_ok AND id > %(after)s
    ORDER BY id LIMIT %(batch)s
), written AS (
    INSERT INTO core_outboundemail (
        created_at, idempotency_key, mailing, from_email, "to", cc, bcc, reply_to, headers, message_id, subject,
        body_text, body_html, attachments, attempts, last_error, render_kind, render_context)
    SELECT %(now)s, %(key)s || ':' || id, %(key)s, %(sender)s, jsonb_build_array(email), '[]', '[]', '[]',
           jsonb_build_object('Message-ID', %(id_start)s || id || %(id_end)s), %(id_start)s || id || %(id_end)s, '',
           '', '', '[]', 0, '', 'update', jsonb_build_object('signature_id', id, 'update_id', %(update)s)
    FROM batch
    ON CONFLICT DO NOTHING
)
SELECT count(*), max(id) FROM batch
"""


def _queue_batch_sql(*, mailing: UpdateMailing, batch: int, now: datetime) -> tuple[int, int | None]:
    id_start, id_end = _message_id(mailing)
    params = {"petition": mailing.petition_id, "after": mailing.after_id, "batch": batch, "now": now,
              "key": mailing.key, "sender": settings.DEFAULT_FROM_EMAIL, "id_start": id_start, "id_end": id_end,
              "update": mailing.update_id}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_QUEUE_SQL, params)
        count, last_id = cursor.fetchone()
    return count, last_id


def _queue_batch_orm(*, mailing: UpdateMailing, batch: int, now: datetime) -> tuple[int, int | None]:
    """The same for the embedded SQLite default."""
    signers = list(
        _audience(mailing.petition_id).filter(pk__gt=mailing.after_id).order_by("pk").values_list("pk", "email")[:batch]
    )
    id_start, id_end = _message_id(mailing)
    OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                idempotency_key=f"{mailing.key}:{pk}",
                mailing=mailing.key,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[email],
                headers={"Message-ID": f"{id_start}{pk}{id_end}"},
                message_id=f"{id_start}{pk}{id_end}",
                subject="",
                render_kind="update",
                render_context={"signature_id": pk, "update_id": mailing.update_id},
            )  # fmt: skip
            for pk, email in signers
        ],
        ignore_conflicts=True,
    )
    return len(signers), signers[-1][0] if signers else None


# --- Rendering, when each message is sent ------------------------------------------------------------------------
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def _plain(html: str) -> str:
    """The update's text as plain paragraphs, for the text part of the e-mail."""
    return "\n\n".join(part for part in (strip_tags_to_text(chunk) for chunk in _BLOCK_END.split(html)) if part)


# The parts of a message that differ per signer; the rest is rendered once per update and batch.
_NAME, _UNSUBSCRIBE, _SUBSCRIPTIONS = "\x01name\x01", "\x01unsubscribe\x01", "\x01subscriptions\x01"


@dataclass(frozen=True)
class _UpdateMail:
    update: PetitionUpdate
    subject: str
    text: str  # with the placeholders above
    html: str
    unsubscribe: str  # link patterns, "{token}" in place of the token
    subscriptions: str
    list_id: str


def _update_mail(update: PetitionUpdate) -> _UpdateMail:
    petition = update.petition
    values = {"first_name": _NAME, "petition": petition, "update": update, "text": _plain(update.body),
              "update_url": absolute_url(update.get_absolute_url()), "unsubscribe_url": _UNSUBSCRIBE,
              "subscriptions_url": _SUBSCRIPTIONS, "site_name": settings.SITE_NAME}  # fmt: skip
    return _UpdateMail(
        update=update,
        subject=f"{update.title} ({petition.title})",
        text=render_to_string("petitions/email/update.txt", values),
        html=render_to_string("petitions/email/update.html", values),
        unsubscribe=link_pattern("petitions:unsubscribe"),
        subscriptions=link_pattern("petitions:subscriptions"),
        list_id=f"<petition-{petition.pk}.{settings.VIGIL_MAIL_DOMAIN}>",
    )


def update_mail_preload(contexts: list[dict]) -> dict:
    """What a batch of a mailing's messages needs, read and rendered once: its signers (one query) and each
    update's message with placeholders for what differs per signer."""
    signature_ids = {context["signature_id"] for context in contexts}
    update_ids = {context["update_id"] for context in contexts}
    signatures = Signature.objects.filter(pk__in=signature_ids).only(
        "pk", "first_name", "state", "contact_ok", "canonical_email"
    )
    updates = PetitionUpdate.objects.filter(pk__in=update_ids).select_related("petition", "mailing")
    return {"signatures": {s.pk: s for s in signatures}, "updates": {u.pk: _update_mail(u) for u in updates}}


def update_mail_render(context: dict, *, preloaded: dict | None = None) -> tuple[str, str, str, dict]:
    """Render one message of a mailing (OutboundEmail.render_kind "update"): (subject, text, html, headers). Raises
    MailWithheld if it must not go: its signer withdrew, was erased or unsubscribed, or the mailing was stopped."""
    preloaded = preloaded or update_mail_preload([context])
    signature = preloaded["signatures"].get(context["signature_id"])
    mail = preloaded["updates"].get(context["update_id"])
    if mail is None:
        raise MailWithheld("The update was removed.")
    if mail.update.mailing.state == MailingState.CANCELLED:
        raise MailWithheld("The mailing was stopped.")
    if signature is None or not signature.canonical_email:
        raise MailWithheld("The signer's details were erased.")
    if signature.state != SignatureState.CONFIRMED:
        raise MailWithheld("The signer withdrew their signature.")
    if not signature.contact_ok:
        raise MailWithheld("The signer unsubscribed.")
    unsubscribe = mail.unsubscribe.format(token=unsubscribe_token(signature_id=signature.pk))
    subscriptions = mail.subscriptions.format(token=subscriptions_token(signature_id=signature.pk))

    def fill(body: str, name: str) -> str:
        return body.replace(_NAME, name).replace(_UNSUBSCRIBE, unsubscribe).replace(_SUBSCRIPTIONS, subscriptions)

    headers = {
        # RFC 8058: mail clients offer an unsubscribe button that POSTs the second header's text to the first.
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": mail.list_id,
    }
    return (
        mail.subject,
        fill(mail.text, signature.first_name),
        fill(mail.html, escape(signature.first_name)),
        headers,
    )


update_mail_render.preload = update_mail_preload


# --- Progress and report -----------------------------------------------------------------------------------------
def update_mailing_report(*, mailing: UpdateMailing, now: datetime | None = None) -> dict:
    """Where a mailing stands: audience, queued, sent, withheld, failed, waiting, and unsubscribed since it was
    approved. Counted from its messages until every one is finished, then kept on the mailing (see
    update_mailings_sweep)."""
    unsubscribed = 0
    if mailing.approved_at:
        unsubscribed = Signature.objects.filter(
            petition_id=mailing.petition_id, unsubscribed_at__gte=mailing.approved_at
        ).count()
    if mailing.finished_at:
        sent, withheld, failed = mailing.sent, mailing.withheld, mailing.failed
        waiting = 0
    else:
        counts = OutboundEmail.objects.filter(mailing=mailing.key).aggregate(
            total=Count("pk"), sent=Count("sent_at"), finished=Count("failed_at"), withheld=Count("withheld_at")
        )
        sent, withheld = counts["sent"], counts["withheld"]
        failed = counts["finished"] - withheld
        waiting = counts["total"] - sent - counts["finished"]
    return {
        "state": mailing.state,
        "audience": mailing.audience,
        "queued": mailing.queued,
        "sent": sent,
        "withheld": withheld,
        "failed": failed,
        "waiting": waiting,
        "unsubscribed": unsubscribed,
        # Every message queued and none left to send (the sweep then keeps these figures on the mailing).
        "finished": bool(mailing.finished_at)
        or (mailing.state in (MailingState.QUEUED, MailingState.CANCELLED) and not waiting),
    }


def update_mailings_sweep(*, now: datetime | None = None) -> dict:
    """Beat, every minute: queue again each mailing whose queueing lost its worker, and keep the report of each
    mailing whose messages are all finished (sent, withheld or failed)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.VIGIL_UPDATE_MAILING_STALE_SECONDS)
    requeued = list(
        UpdateMailing.objects.filter(state=MailingState.QUEUEING, heartbeat_at__lt=stale).values_list("pk", flat=True)
    )
    for pk in requeued:
        logger.warning("Mailing %s stopped queueing (its worker was lost): queueing it again", pk)
        enqueue("petitions.tasks.update_mailing_queue_task", pk)
    finished = 0
    unfinished = UpdateMailing.objects.filter(
        state__in=[MailingState.QUEUED, MailingState.CANCELLED], approved_at__isnull=False, finished_at__isnull=True
    )
    for mailing in unfinished:
        report = update_mailing_report(mailing=mailing, now=now)
        if report["waiting"]:
            continue
        finished += UpdateMailing.objects.filter(pk=mailing.pk, finished_at__isnull=True).update(
            sent=report["sent"], withheld=report["withheld"], failed=report["failed"], finished_at=now
        )
    return {"requeued": len(requeued), "finished": finished}


def update_mailing_panel(*, update: PetitionUpdate, user, role: str) -> dict:
    """What the update's organiser page shows of its mailing: the mailing (or None), its report, how many signers
    would get it, and what this person may do (ask, approve, cancel)."""
    mailing = UpdateMailing.objects.filter(update=update).select_related("requested_by", "approved_by").first()
    is_owner = role == MembershipRole.OWNER
    active = mailing is not None and mailing.state != MailingState.CANCELLED
    report = update_mailing_report(mailing=mailing) if mailing and mailing.approved_at else None
    return {
        "mailing": mailing,
        "report": report,
        "audience": None if active else _audience(update.petition_id).count(),
        "can_ask": update.published_at is not None and not active,
        "can_approve": bool(
            mailing
            and mailing.state == MailingState.AWAITING_APPROVAL
            and is_owner
            and mailing.requested_by_id != user.pk
        ),
        "can_cancel": bool(active and not (report and report["finished"])),
        "per_week": settings.VIGIL_UPDATE_MAILINGS_PER_WEEK,
    }
