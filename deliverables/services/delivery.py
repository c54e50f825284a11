"""Delivering a petition's documents to its decision maker, and telling the signers.

`delivery_create` records what is to go (packet exports and compiled letters of this petition, all complete) and
either queues the e-mail (method "email") or records a delivery made by hand. `delivery_send` is what the task runs:
inside one transaction it locks the delivery, returns at once if it is no longer queued, copies (hard-links) the
files into the delivery's own private folder (so an export expiring later does not take them away), writes the
message into the outbox with the idempotency key "petition-delivery:<id>" (attachments as files on disk, or expiring
signed links for what does not fit under VIGIL_DELIVERY_MAX_ATTACHMENT_BYTES), marks the delivery sent and logs it.
A retried, duplicated or re-queued task finds the delivery sent, and the outbox refuses a second row with that key;
the log's unique constraint allows one "sent" entry per delivery. Then the petition moves to delivered (closing it
first if it was still open) and the signers who agreed to hear from the organisers get a short update, in batches of
VIGIL_DELIVERY_UPDATE_BATCH, each with the key "petition-delivered:<petition>:<signature>": once per signer, ever.
"""

import logging
import os
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.jobs import enqueue
from core.links import absolute_url
from core.mail import outbound_email_queue
from core.models import EventKind, OutboundEmail
from core.services.events import event_record
from deliverables.models import (
    Delivery,
    DeliveryEvent,
    DeliveryItem,
    DeliveryItemKind,
    DeliveryLog,
    DeliveryMethod,
    DeliveryState,
    JobState,
    LetterCompile,
    PacketExport,
)
from deliverables.private_files import private_copy, private_delete
from petitions.models import Petition, PetitionStatus
from petitions.services.errors import PetitionStateError
from petitions.services.lifecycle import petition_close, petition_mark_delivered
from signatures.models import Signature, SignatureState

logger = logging.getLogger(__name__)

LINK_SALT = "petitions.delivery.file"


class DeliveryError(ValueError):
    """A delivery that cannot be made; the message says why, for the organiser."""


def delivery_file_token(*, item: DeliveryItem) -> str:
    return signing.TimestampSigner(salt=LINK_SALT).sign(str(item.pk))


def delivery_item_for_token(*, token: str) -> DeliveryItem:
    max_age = settings.VIGIL_DELIVERY_LINK_MAX_AGE_DAYS * 86400
    try:
        pk = int(signing.TimestampSigner(salt=LINK_SALT).unsign(token, max_age=max_age))
    except signing.SignatureExpired as exc:
        raise DeliveryError("This link has expired. Ask the organisers for a new copy.") from exc
    except (signing.BadSignature, ValueError) as exc:
        raise DeliveryError("This link is not one we sent, or it was cut short.") from exc
    item = DeliveryItem.objects.select_related("delivery__petition").filter(pk=pk, as_link=True).first()
    if item is None or not item.file_name:
        raise DeliveryError("This document is no longer available.")
    return item


# --- Recording --------------------------------------------------------------------------------------------------------


def delivery_create(
    *,
    petition: Petition,
    method: str,
    exports: list[PacketExport],
    compiles: list[LetterCompile],
    by,
    message: str = "",
    note: str = "",
    mark_delivered: bool = True,
    notify_signers: bool = True,
    now: datetime | None = None,
) -> Delivery:
    now = now or timezone.now()
    if method not in DeliveryMethod.values:
        raise DeliveryError("Choose how the documents are delivered.")
    if method == DeliveryMethod.EMAIL and not petition.target_email:
        raise DeliveryError(
            "The decision maker has no e-mail address: add one to the petition, or record a delivery made by hand."
        )
    if method == DeliveryMethod.EMAIL and not (exports or compiles):
        raise DeliveryError("Choose at least one document to send.")
    if any(e.petition_id != petition.pk for e in exports) or any(c.letter.petition_id != petition.pk for c in compiles):
        raise DeliveryError("Those documents belong to another petition.")
    if any(e.state != JobState.DONE for e in exports) or any(c.state != JobState.DONE for c in compiles):
        raise DeliveryError("Only finished documents can be delivered; wait for them or choose others.")
    if any(e.include_emails for e in exports):
        raise DeliveryError("A packet with signers' e-mail addresses is never sent to the decision maker.")
    if method == DeliveryMethod.BY_HAND and not note.strip():
        raise DeliveryError("Say where, when and to whom the documents were handed.")
    recipient = ", ".join(filter(None, [petition.target_name, petition.target_organisation]))
    with transaction.atomic():
        delivery = Delivery.objects.create(
            petition=petition,
            method=method,
            recipient_name=recipient[:200],
            recipient_email=petition.target_email if method == DeliveryMethod.EMAIL else "",
            message=message.strip(),
            note=note.strip(),
            mark_delivered=mark_delivered,
            notify_signers=notify_signers,
            requested_by=by,
            created_at=now,
        )
        for export in exports:
            DeliveryItem.objects.create(
                delivery=delivery,
                kind=DeliveryItemKind.PACKET,
                export=export,
                label=f"Signatures ({export.kind.upper()}, {export.rows_total:,} rows)",
                file_size=export.file_size,
                checksum=export.file_checksum,
            )
        for compiled in compiles:
            DeliveryItem.objects.create(
                delivery=delivery,
                kind=DeliveryItemKind.LETTER,
                compile=compiled,
                label=f"{compiled.letter.title} (compile {compiled.number}, {compiled.signatory_count} signatories)",
                file_size=compiled.file_size,
                checksum=compiled.checksum,
            )
        what = "; ".join(item.label for item in delivery.items.all())
        if method == DeliveryMethod.EMAIL:
            DeliveryLog.objects.create(
                delivery=delivery,
                petition=petition,
                event=DeliveryEvent.QUEUED,
                at=now,
                by=by,
                to=delivery.recipient_email,
                what=what,
            )
            enqueue("deliverables.tasks.delivery_send_task", delivery.pk)
        else:
            Delivery.objects.filter(pk=delivery.pk).update(
                state=DeliveryState.RECORDED, delivered_at=now, outcome="Recorded by hand"
            )
            event_record(kind=EventKind.DELIVERY_SENT, petition=petition, subject_id=delivery.pk, now=now)
            DeliveryLog.objects.create(
                delivery=delivery,
                petition=petition,
                event=DeliveryEvent.RECORDED,
                at=now,
                by=by,
                to=recipient,
                what=what or "(documents not listed)",
                outcome=note.strip()[:2000],
            )
            _after_delivery(delivery=delivery, now=now)
    delivery.refresh_from_db()
    return delivery


# --- Sending ----------------------------------------------------------------------------------------------------------


def _delivery_copy(*, delivery: Delivery, item: DeliveryItem) -> tuple[str, str]:
    """Copy an item's file into the delivery's own folder (a hard link where possible); (name, download filename)."""
    source_name = item.export.file_name if item.export_id else item.compile.file_name
    filename = os.path.basename(source_name)
    name = f"deliveries/{delivery.petition_id}/{delivery.pk}/{filename}"
    private_copy(source_name, name)
    return name, filename


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> Delivery | None:
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("petition").filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.state != DeliveryState.QUEUED:
            return delivery
        items = list(delivery.items.select_related("export", "compile__letter"))
        attachments, links, budget = [], [], settings.VIGIL_DELIVERY_MAX_ATTACHMENT_BYTES
        for item in items:
            name, filename = _delivery_copy(delivery=delivery, item=item)
            as_link = item.file_size > budget
            if not as_link:
                budget -= item.file_size
                mimetype = "text/csv" if filename.endswith(".csv") else "application/pdf"
                attachments.append({"filename": filename, "private": name, "mimetype": mimetype})
            DeliveryItem.objects.filter(pk=item.pk).update(file_name=name, as_link=as_link)
            item.file_name, item.as_link = name, as_link
            if as_link:
                path = reverse("deliverables:delivery_file", args=[delivery_file_token(item=item)])
                links.append({"label": item.label, "url": absolute_url(path)})
        petition = delivery.petition
        context = {
            "delivery": delivery,
            "petition": petition,
            "items": items,
            "links": links,
            "link_days": settings.VIGIL_DELIVERY_LINK_MAX_AGE_DAYS,
            "site_name": settings.SITE_NAME,
        }
        message = EmailMultiAlternatives(
            subject=f"Petition: {petition.title}",
            body=render_to_string("deliverables/delivery/email/delivery.txt", context),
            to=[delivery.recipient_email],
            reply_to=[delivery.requested_by.email] if delivery.requested_by_id else [],
        )
        key = f"petition-delivery:{delivery.pk}"
        row = outbound_email_queue(message, idempotency_key=key) or OutboundEmail.objects.get(idempotency_key=key)
        OutboundEmail.objects.filter(pk=row.pk).update(attachments=attachments)
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.SENT,
            delivered_at=now,
            message_id=row.message_id,
            outcome=f"Handed to the outbox: {len(attachments)} attached, {len(links)} as links.",
        )
        event_record(kind=EventKind.DELIVERY_SENT, petition=petition, subject_id=delivery.pk, now=now)
        try:
            with transaction.atomic():
                DeliveryLog.objects.create(
                    delivery=delivery,
                    petition=petition,
                    event=DeliveryEvent.SENT,
                    at=now,
                    by=delivery.requested_by,
                    to=delivery.recipient_email,
                    what="; ".join(i.label for i in items),
                    message_id=row.message_id,
                    outcome=f"Queued for sending: {len(attachments)} attached, {len(links)} as links.",
                )
        except IntegrityError:
            pass
        delivery.refresh_from_db()
        _after_delivery(delivery=delivery, now=now)
    return delivery


def delivery_outcome(*, delivery: Delivery) -> str:
    """What the outbox says of the delivery's message: sent, queued or failed (with the last error)."""
    row = OutboundEmail.objects.filter(idempotency_key=f"petition-delivery:{delivery.pk}").first()
    if row is None:
        return ""
    if row.sent_at:
        return f"Sent {row.sent_at:%Y-%m-%d %H:%M} UTC"
    if row.failed_at:
        return f"Failed: {row.last_error[:200]}"
    return "Waiting to be sent" + (f" (attempt {row.attempts}: {row.last_error[:120]})" if row.last_error else "")


def _after_delivery(*, delivery: Delivery, now: datetime) -> None:
    petition = delivery.petition
    if delivery.mark_delivered:
        current = Petition.objects.get(pk=petition.pk)
        try:
            if current.status == PetitionStatus.OPEN:
                petition_close(petition=current, now=now)
            if current.status == PetitionStatus.CLOSED:
                petition_mark_delivered(petition=current, now=now)
                with transaction.atomic():
                    DeliveryLog.objects.create(
                        delivery=delivery,
                        petition=petition,
                        at=now,
                        by=delivery.requested_by,
                        event=DeliveryEvent.PETITION_DELIVERED,
                        outcome="Petition delivered",
                    )
        except (PetitionStateError, IntegrityError) as exc:
            logger.info("Delivery %s: petition %s not moved: %s", delivery.pk, petition.pk, exc)
    if delivery.notify_signers:
        enqueue("deliverables.tasks.delivery_updates_task", delivery.pk)


# --- Telling the signers ----------------------------------------------------------------------------------------------


def delivery_updates_send(*, delivery_id: int, batch: int | None = None, now: datetime | None = None) -> bool:
    """Queue the next batch of "your petition was delivered" notes; True while more remain."""
    batch = batch or settings.VIGIL_DELIVERY_UPDATE_BATCH
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("petition").filter(pk=delivery_id).first()
        )
        if (
            delivery is None
            or delivery.updates_finished_at
            or delivery.state not in (DeliveryState.SENT, DeliveryState.RECORDED)
        ):
            return False
        petition = delivery.petition
        signatures = list(
            Signature.objects.filter(
                petition=petition, state=SignatureState.CONFIRMED, contact_ok=True, pk__gt=delivery.updates_after_id
            )
            .order_by("pk")
            .only("pk", "email", "first_name")[:batch]
        )
        queued = 0
        url = absolute_url(petition.get_absolute_url())
        for signature in signatures:
            context = {
                "petition": petition,
                "signature": signature,
                "delivery": delivery,
                "petition_url": url,
                "site_name": settings.SITE_NAME,
            }
            message = EmailMultiAlternatives(
                subject=f"[{settings.SITE_NAME}] The petition you signed has been delivered",
                body=render_to_string("deliverables/delivery/email/signer_update.txt", context),
                to=[signature.email],
            )
            if outbound_email_queue(message, idempotency_key=f"petition-delivered:{petition.pk}:{signature.pk}"):
                queued += 1
        done = len(signatures) < batch
        Delivery.objects.filter(pk=delivery.pk).update(
            updates_after_id=signatures[-1].pk if signatures else delivery.updates_after_id,
            updates_sent=F("updates_sent") + queued,
            updates_finished_at=now if done else None,
        )
        if done:
            total = Delivery.objects.filter(pk=delivery.pk).values_list("updates_sent", flat=True).get()
            try:
                with transaction.atomic():
                    DeliveryLog.objects.create(
                        delivery=delivery,
                        petition=petition,
                        event=DeliveryEvent.UPDATES_SENT,
                        at=now,
                        to="signers who agreed to hear from the organisers",
                        outcome=f"{total:,} update(s) queued",
                    )
            except IntegrityError:
                pass
    return not done


def deliverables_files_expire(*, now: datetime | None = None) -> int:
    """Delete the files of deliveries and compiled letters older than VIGIL_DELIVERED_FILE_EXPIRY_DAYS: the copies of
    packets and letters attached to a delivery (the delivery log keeps what, when, to whom, size and checksum) and
    compiled letter PDFs (the compile row keeps its number, count and checksum; compiling again makes a new one).
    Returns how many files went."""
    from datetime import timedelta

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VIGIL_DELIVERED_FILE_EXPIRY_DAYS)
    done = 0
    items = DeliveryItem.objects.filter(delivery__created_at__lt=cutoff).exclude(file_name="")
    for item in items.only("pk", "file_name"):
        private_delete(item.file_name)
        done += DeliveryItem.objects.filter(pk=item.pk).update(file_name="")
    compiles = LetterCompile.objects.filter(state=JobState.DONE, created_at__lt=cutoff).exclude(file_name="")
    for compiled in compiles.only("pk", "file_name"):
        private_delete(compiled.file_name)
        done += LetterCompile.objects.filter(pk=compiled.pk).update(state=JobState.EXPIRED, file_name="")
    if done:
        logger.info("Deleted %d delivered or compiled file(s) older than %s", done, cutoff.date())
    return done
