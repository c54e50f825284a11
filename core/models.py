import uuid

from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform


class OutboundEmailQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(sent_at__isnull=True, failed_at__isnull=True)


class OutboundEmail(models.Model):
    """One message on its way out: the transactional outbox.

    A row is written in the same transaction as the change that caused it, so a committed change always has its
    message, and a rolled-back one never does. Either a Celery task delivers it after the commit, or (for mail
    written in bulk, such as signature confirmations) the outbox pump, a beat task every second, claims unsent rows
    in batches and delivers them; a beat sweep re-queues what a dead worker or an unreachable broker left behind.
    `sent_at` makes delivery happen once (see core.services for the locking).
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Set by callers that must send at most one message for one event (e.g. "signature-confirm:42").
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    from_email = models.CharField(max_length=320)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    attachments = models.JSONField(
        default=list, blank=True, help_text="[{filename, path, mimetype}]: files on disk, read at delivery."
    )
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text="Given up after too many attempts.")
    message_id = models.CharField(max_length=255, blank=True, default="")
    # Deferred rendering: a row written in a hot path may carry only what to render ("kind", a key of
    # settings.VIGIL_OUTBOX_RENDERERS, and a small JSON context); delivery renders it (core.mail.outbound_email_render,
    # which gives the same message whenever it runs, so the bodies are not stored: writing 3 kB back per message
    # doubled the pump's database cost). Rows with an empty kind are complete as written (send_mail, allauth, and
    # every row from before).
    render_kind = models.CharField(max_length=50, blank=True, default="")
    render_context = models.JSONField(default=dict, blank=True)
    # Set by the outbox pump while it delivers a row it claimed (a lease, not a lock, so that its delivery can commit
    # message by message); a delivery task leaves a row with a live claim alone. Cleared after each attempt.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When its personal data (recipients, subject, bodies, headers, context) was erased: VIGIL_OUTBOX_RETENTION_DAYS
    # after it was sent or given up on, or at once when the person it was for withdrew or was anonymised.
    scrubbed_at = models.DateTimeField(null=True, blank=True)
    # The bulk mailing this message belongs to (e.g. "update:12"), kept when the row is scrubbed so that the
    # mailing's report can still count it. Empty for every other message.
    mailing = models.CharField(max_length=64, blank=True, default="")
    # When it was given up on purpose, never having been sent: its person withdrew, was erased or unsubscribed
    # first. Such a row has `failed_at` too (it is finished), but it is not a failure.
    withheld_at = models.DateTimeField(null=True, blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="outbound_email_unique_idempotency_key",
            ),
        ]
        indexes = [
            # Unsent messages, in two lists: one-to-one mail (confirmations, notices) first, by age; and the
            # messages of bulk mailings, which the pump takes only when the first list is empty, so that a mailing
            # to 150,000 signers never delays a new signer's confirmation.
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True, failed_at__isnull=True, mailing=""),
                name="outbound_email_unsent_idx",
            ),
            models.Index(
                fields=["mailing", "created_at"],
                condition=Q(sent_at__isnull=True, failed_at__isnull=True) & ~Q(mailing=""),
                name="outbound_email_unsent_bulk_idx",
            ),
            # The messages of one signature, found when it is withdrawn, purged or anonymised.
            models.Index(KeyTransform("signature_id", "render_context"), name="outbound_email_signature_idx"),
            models.Index(
                fields=["created_at"], condition=Q(scrubbed_at__isnull=True), name="outbound_email_unscrubbed_idx"
            ),
            models.Index(fields=["mailing"], condition=~Q(mailing=""), name="outbound_email_mailing_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"

    @property
    def status(self) -> str:
        if self.sent_at:
            return "sent"
        if self.withheld_at:
            return "withheld"
        if self.failed_at:
            return "failed"
        return "queued"


class EventKind(models.TextChoices):
    SIGNATURE_CONFIRMED = "signature.confirmed", "A signature was confirmed"
    SIGNATURE_WITHDRAWN = "signature.withdrawn", "A confirmed signature was withdrawn"
    PETITION_STATE_CHANGED = "petition.state_changed", "The petition opened, closed, was delivered or archived"
    PETITION_UPDATE_PUBLISHED = "petition.update_published", "The organisers published an update"
    DELIVERY_SENT = "delivery.sent", "The petition was sent to its target"


class Event(models.Model):
    """Something that happened to a petition, for the systems that follow it (webhooks): the event outbox.

    A row is written in the same transaction as the change it tells of, so a committed change always has its event
    and a rolled-back one never does; the worker fans it out to the petition's endpoints afterwards. Rows carry ids,
    never personal data: what is sent is read from the subject when it is sent, so a signature withdrawn since has
    nothing personal left to send. Written only for petitions with an endpoint switched on (`Petition.sends_events`).
    """

    kind = models.CharField(max_length=40, choices=EventKind.choices)
    # The event's idempotency key where it is sent: a receiver that sees one twice (a retry) drops the second.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="+")
    # The signature, delivery or petition the event is about (by the kind); read when the event is sent.
    subject_id = models.BigIntegerField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["id"], condition=Q(fanned_out_at__isnull=True), name="event_not_fanned_out_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.subject_id}"
