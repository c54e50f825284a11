"""Deliverables: what organisers hand to a petition's target, and who co-signed it.

- Sign-on letters (`Letter`) in numbered versions (`LetterVersion`), signed by organisations or shareholders
  (`SignOn`), compiled to PDF (`LetterCompile`).
- Signature packets (`PacketExport`): the petition's signatures as CSV or PDF, private and expiring.
- Deliveries (`Delivery`, `DeliveryItem`, `DeliveryLog`): documents sent or handed to the target, and their log.
- The download log of private files (`PrivateDownload`).

Long jobs (compiles, packets) share one life, `JobState`: queued → running → done, or failed; done → expired when
the file is deleted. The tables keep the names they had when these models lived in `petitions` and `signatures`.
"""

import re
import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from petitions.models import Petition

# A link target that no browser reads as another scheme: http(s)://, then no space or control character at all.
_HTTP_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


class LetterKind(models.TextChoices):
    COALITION = "coalition", _("Coalition letter (organisations)")
    SHAREHOLDER = "shareholder", _("Shareholders' letter")


class LetterState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for signatures")
    CLOSED = "closed", _("Closed")


class Letter(models.Model):
    """A sign-on letter addressed to the petition's target. Its text lives in numbered versions (LetterVersion):
    once anyone has signed, an edit adds a version instead of changing the one they signed."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="letters")
    # The letter's id outside the site (the API's "vigil:<uuid>").
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=12, choices=LetterKind.choices)
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text=_("Plain text; a blank line starts a new paragraph."))
    state = models.CharField(max_length=8, choices=LetterState.choices, default=LetterState.DRAFT)
    current_version = models.ForeignKey(
        "LetterVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "petitions_letter"  # kept from before the app existed: no row moved
        ordering = ["petition", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "slug"], name="letter_slug_unique_per_petition"),
            models.CheckConstraint(
                condition=Q(state=LetterState.DRAFT) | Q(opened_at__isnull=False), name="letter_opened_has_time"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="letter_has_title"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_kind_display()})"

    def get_absolute_url(self) -> str:
        return reverse("deliverables:letter_detail", args=[self.petition.slug, self.slug])

    @property
    def is_coalition(self) -> bool:
        return self.kind == LetterKind.COALITION

    @property
    def accepts_signatures(self) -> bool:
        return self.state == LetterState.OPEN


class LetterVersion(models.Model):
    """A text of a letter as people signed it. Never changed once anyone signed it."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        db_table = "petitions_letterversion"  # kept from before the app existed: no row moved
        ordering = ["letter", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "number"], name="letter_version_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="letter_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} · version {self.number}"


class JobState(models.TextChoices):
    """The life of a long job (a compile, a packet export): queued → running → done, or failed."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class Job(models.Model):
    """What every long job (a compile, a packet export) records: its state, its progress in rows (which the page
    polls), its file once complete, its error, and the times a stale-job sweep looks at."""

    state = models.CharField(max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # Relative to VIGIL_PRIVATE_ROOT; set only once the file is complete (it is written under a temporary name).
    file_name = models.CharField(max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class LetterCompile(Job):
    """One compiled PDF of a letter: a new numbered version each time; earlier ones stay."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="compiles")
    number = models.PositiveIntegerField()
    letter_version = models.ForeignKey(LetterVersion, on_delete=models.PROTECT, related_name="compiles")
    signatory_count = models.PositiveIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True, help_text=_("SHA-256 of the PDF file."))

    class Meta:
        db_table = "petitions_lettercompile"  # kept from before the app existed: no row moved
        ordering = ["letter", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "number"], name="letter_compile_unique"),
            models.CheckConstraint(
                condition=~Q(state=JobState.DONE) | ~Q(file_name=""), name="letter_compile_done_has_file"
            ),
            models.CheckConstraint(condition=Q(rows_done__lte=models.F("rows_total")) | Q(rows_total=0),
                                   name="letter_compile_progress_bounded"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.letter} · compile {self.number}"


class DeliveryMethod(models.TextChoices):
    EMAIL = "email", _("E-mailed by Vigil")
    BY_HAND = "by_hand", _("Delivered by hand (recorded)")


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    RECORDED = "recorded", _("Recorded")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """Documents handed to the petition's target: e-mailed through the outbox, or recorded as delivered by hand."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="deliveries")
    method = models.CharField(max_length=8, choices=DeliveryMethod.choices)
    state = models.CharField(max_length=8, choices=DeliveryState.choices, default=DeliveryState.QUEUED)
    recipient_name = models.CharField(max_length=200)
    recipient_email = models.EmailField(max_length=254, blank=True)
    message = models.TextField(blank=True, help_text=_("The covering note."))
    note = models.TextField(blank=True, help_text=_("For a delivery by hand: where, when and to whom."))
    mark_delivered = models.BooleanField(default=True)
    notify_signers = models.BooleanField(default=True)
    message_id = models.CharField(max_length=255, blank=True)
    outcome = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The signers' update: the highest signature id queued so far (batches resume after it), and when it finished.
    updates_after_id = models.BigIntegerField(default=0)
    updates_sent = models.PositiveIntegerField(default=0)
    updates_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "petitions_delivery"  # kept from before the app existed: no row moved
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=~Q(method=DeliveryMethod.EMAIL) | ~Q(recipient_email=""), name="delivery_email_has_address"
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[DeliveryState.SENT, DeliveryState.RECORDED]) | Q(delivered_at__isnull=False),
                name="delivery_delivered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition} → {self.recipient_name} ({self.get_state_display()})"


class DeliveryItemKind(models.TextChoices):
    PACKET = "packet", _("Signature packet")
    LETTER = "letter", _("Letter")


class DeliveryItem(models.Model):
    """One document in a delivery: a packet export or a compiled letter, attached or sent as an expiring link."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=8, choices=DeliveryItemKind.choices)
    export = models.ForeignKey("PacketExport", null=True, blank=True, on_delete=models.SET_NULL)
    compile = models.ForeignKey(LetterCompile, null=True, blank=True, on_delete=models.SET_NULL)
    label = models.CharField(max_length=300)
    file_name = models.CharField(max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True)
    as_link = models.BooleanField(default=False)

    class Meta:
        db_table = "petitions_deliveryitem"  # kept from before the app existed: no row moved
        ordering = ["delivery", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(export__isnull=False) | Q(compile__isnull=False) | Q(file_name=""),
                name="delivery_item_has_source",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class DeliveryEvent(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    RECORDED = "recorded", _("Recorded by hand")
    FAILED = "failed", _("Failed")
    PETITION_DELIVERED = "delivered", _("Petition marked delivered")
    UPDATES_SENT = "updates", _("Signers told")


class DeliveryLog(models.Model):
    """Append-only: what went, to whom, when, by whom, with which message id, and how it ended."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="delivery_log")
    event = models.CharField(max_length=10, choices=DeliveryEvent.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    to = models.CharField(max_length=300, blank=True)
    what = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    outcome = models.TextField(blank=True)

    class Meta:
        db_table = "petitions_deliverylog"  # kept from before the app existed: no row moved
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["petition", "-at"], name="delivery_log_petition_idx")]
        constraints = [
            # One "sent" (and one "delivered", one "updates") entry per delivery, however often a task runs.
            models.UniqueConstraint(
                fields=["delivery", "event"],
                condition=Q(event__in=["sent", "recorded", "delivered", "updates"]),
                name="delivery_log_once_per_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_event_display()} → {self.to}"


class SignOnState(models.TextChoices):
    PENDING = "pending", _("Waiting for e-mail confirmation")
    CONFIRMED = "confirmed", _("Waiting for review")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class HoldingKind(models.TextChoices):
    SHARES = "shares", _("Number of shares")
    UNDISCLOSED = "undisclosed", _("Undisclosed")


class SignOnQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(state=SignOnState.VERIFIED)


def signon_logo_path(instance: "SignOn", filename: str) -> str:
    return f"signons/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-{filename}"


class SignOn(models.Model):
    """An organisation (coalition letter) or a shareholder (shareholders' letter) signing a letter.

    The contact e-mail and any proof document are private: only the petition's organisers see them. Only verified
    sign-ons appear on the public page and in the compiled letter. The unique constraints on the canonical e-mail and
    the canonical website are the one truth about "has this organisation signed".
    """

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="signons")
    letter_version = models.ForeignKey(LetterVersion, on_delete=models.PROTECT, related_name="signons")
    state = models.CharField(max_length=10, choices=SignOnState.choices, default=SignOnState.PENDING)
    # The organisation's name, or the shareholder's (a person or a fund).
    name = models.CharField(max_length=200)
    website = models.URLField(max_length=300, blank=True)
    canonical_website = models.CharField(max_length=300, blank=True)
    logo = models.ImageField(upload_to=signon_logo_path, blank=True)
    logo_width = models.PositiveIntegerField(default=0, editable=False)
    logo_height = models.PositiveIntegerField(default=0, editable=False)
    renditions = models.JSONField(default=list, blank=True, editable=False)
    signer_name = models.CharField(max_length=120)
    signer_role = models.CharField(max_length=120, blank=True)
    email = models.CharField(max_length=254)
    canonical_email = models.CharField(max_length=254)
    holding_kind = models.CharField(max_length=12, choices=HoldingKind.choices, blank=True)
    shares = models.PositiveBigIntegerField(null=True, blank=True)
    # Relative to VIGIL_PRIVATE_ROOT; never under MEDIA_ROOT.
    proof_file = models.CharField(max_length=300, blank=True)
    proof_mimetype = models.CharField(max_length=40, blank=True)
    proof_size = models.PositiveIntegerField(default=0)
    generation = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.CharField(max_length=500, blank=True)
    # When its contact details and proof were erased (VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS after the letter closed).
    anonymised_at = models.DateTimeField(null=True, blank=True)
    # When its uploads were deleted because it was never verified (VIGIL_SIGNON_UNVERIFIED_UPLOAD_DAYS).
    uploads_removed_at = models.DateTimeField(null=True, blank=True)

    objects = SignOnQuerySet.as_manager()

    class Meta:
        db_table = "signatures_signon"  # kept from before the app existed: no row moved
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "canonical_email"], condition=~Q(canonical_email=""), name="signon_one_per_email"
            ),
            models.UniqueConstraint(
                fields=["letter", "canonical_website"], condition=~Q(canonical_website=""),
                name="signon_one_per_website",
            ),
            models.CheckConstraint(
                condition=~Q(canonical_email="") | Q(anonymised_at__isnull=False), name="signon_has_email"
            ),
            models.CheckConstraint(
                condition=Q(state__in=[SignOnState.PENDING, SignOnState.REJECTED]) | Q(confirmed_at__isnull=False),
                name="signon_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[SignOnState.VERIFIED, SignOnState.REJECTED]) | Q(reviewed_at__isnull=False),
                name="signon_reviewed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(holding_kind="", shares__isnull=True)
                | Q(holding_kind=HoldingKind.UNDISCLOSED, shares__isnull=True)
                | Q(holding_kind=HoldingKind.SHARES, shares__gte=1),
                name="signon_holding_consistent",
            ),
        ]  # fmt: skip
        indexes = [models.Index(fields=["letter", "state", "name"], name="signon_letter_state_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"

    @property
    def website_link(self) -> str:
        """The website as a link target, or "" when it is not an http or https URL (rows kept from before websites
        were checked may hold anything, and a javascript: link runs when it is followed)."""
        value = self.website or ""
        return value if _HTTP_URL.fullmatch(value) else ""

    @property
    def holding_label(self) -> str:
        if self.holding_kind == HoldingKind.SHARES and self.shares:
            return f"{self.shares:,} shares"
        if self.holding_kind == HoldingKind.UNDISCLOSED:
            return "Holding undisclosed"
        return ""

    @property
    def logo_url(self) -> str:
        name = self.logo_rendition("webp")
        return default_storage.url(name) if name else ""

    def logo_rendition(self, fmt: str = "jpeg") -> str:
        """The storage name of the smallest rendition in fmt, or the cleaned original."""
        for item in sorted(self.renditions or [], key=lambda r: r.get("width", 0)):
            if item.get("format") == fmt and item.get("source") == self.logo.name:
                return item["name"]
        return self.logo.name if self.logo else ""


class PacketKind(models.TextChoices):
    CSV = "csv", _("Spreadsheet (CSV)")
    PDF = "pdf", _("Printable packet (PDF)")


class PacketExport(Job):
    """A signature packet being built, or built, for a petition's organisers. The file is private and expires."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="packet_exports")
    kind = models.CharField(max_length=3, choices=PacketKind.choices)
    include_emails = models.BooleanField(default=False)
    # SHA-256 of the rows, as the CSV without e-mail addresses in packet order (printed on the PDF's cover).
    rows_checksum = models.CharField(max_length=64, blank=True)
    file_checksum = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "signatures_packetexport"  # kept from before the app existed: no row moved
        ordering = ["-created_at", "-pk"]
        permissions = [("export_signer_emails", "Can include signers' e-mail addresses in packets")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=JobState.values), name="packet_state_known"),
            models.CheckConstraint(condition=~Q(state=JobState.DONE) | ~Q(file_name=""), name="packet_done_has_file"),
            models.CheckConstraint(condition=~Q(kind="pdf") | Q(include_emails=False), name="packet_pdf_no_emails"),
        ]
        indexes = [
            models.Index(fields=["petition", "-created_at"], name="packet_petition_idx"),
            models.Index(fields=["expires_at"], condition=Q(state=JobState.DONE), name="packet_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.petition_id} ({self.state})"


class PrivateDownload(models.Model):
    """Every download of a private file (packet, compiled letter, proof document): who, what, when."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="private_downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10)  # "packet", "letter", "proof" or "link" (an e-mailed expiring link)
    object_id = models.BigIntegerField()
    file_name = models.CharField(max_length=300)
    ip_hash = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "signatures_privatedownload"  # kept from before the app existed: no row moved
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["petition", "-at"], name="private_download_petition_idx")]

    KIND_LABELS = {
        "packet": _("signature packet"),
        "letter": _("compiled letter"),
        "proof": _("proof document"),
        "link": _("file from an e-mailed link"),
    }

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.file_name}"

    @property
    def kind_label(self) -> str:
        return str(self.KIND_LABELS.get(self.kind, self.kind))

    @property
    def file_label(self) -> str:
        """The file's own name, without the private folders it is kept in."""
        return self.file_name.rsplit("/", 1)[-1]
