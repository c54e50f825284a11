"""The ledger of people's signatures, and the tallies built from it.

A signature belongs to one petition (by a string reference: petitions sit above this app) and goes
pending → confirmed → withdrawn, or to invalidated when an organiser strikes out a burst of fraud. The unique
constraint on (petition, canonical e-mail) is the one truth about "has this person signed".

Counts are never bumped by a confirmation. A confirmation writes only its own row; the flush job
(services/counts.py) moves rows whose `counted` flag disagrees with their state into three tallies (per petition,
per country and region, per hour) in one statement every couple of seconds. Every tally can be rebuilt from the rows.
"""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A link target that no browser reads as another scheme: http(s)://, then no space or control character at all.
_HTTP_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


class SignatureState(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    INVALIDATED = "invalidated", _("Invalidated")


class SignatureQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(state=SignatureState.CONFIRMED)

    def pending(self):
        return self.filter(state=SignatureState.PENDING)

    def public(self):
        """Confirmed signers who agreed to be shown: the rows the public page may name."""
        return self.filter(state=SignatureState.CONFIRMED, show_publicly=True)


class SignatureInvalidation(models.Model):
    """An organiser's decision to strike out a set of signatures (a burst from one address or domain), with why."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="invalidations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    # {"kind": "ip" | "domain", "value": "...", "since": iso, "until": iso}
    criteria = models.JSONField(default=dict)
    signature_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="signature_invalidation_has_reason")]

    def __str__(self) -> str:
        return f"{self.signature_count} signature(s) on {self.petition_id}: {self.reason[:60]}"


class Signature(models.Model):
    # No index of its own: every index below starts with the petition.
    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.PROTECT, related_name="signatures", db_index=False
    )
    state = models.CharField(max_length=12, choices=SignatureState.choices, default=SignatureState.PENDING)
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    # As typed (with the domain in ASCII): where mail goes. Empty once anonymised.
    email = models.CharField(max_length=254)
    # What the unique constraint compares (signatures.email.email_canonical). Empty once anonymised.
    canonical_email = models.CharField(max_length=254)
    email_domain = models.CharField(max_length=253, blank=True)
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=80, blank=True)
    town = models.CharField(max_length=80, blank=True)
    postal_code = models.CharField(max_length=16, blank=True)
    show_publicly = models.BooleanField(default=False)
    contact_ok = models.BooleanField(default=False)
    # HMAC-SHA256 of the client's address (an IPv6 address by its /64) under VIGIL_IP_HASH_KEY; never the address.
    ip_hash = models.CharField(max_length=64, blank=True)
    referrer_host = models.CharField(max_length=253, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    # Raised when a withdrawn signer signs again: links e-mailed before then stop working.
    generation = models.PositiveSmallIntegerField(default=1)
    # Mail sent to this signer (confirmations, reminders, "already signed" notes): numbers them, and throttles them.
    mail_count = models.PositiveSmallIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    invalidation = models.ForeignKey(
        SignatureInvalidation, null=True, blank=True, on_delete=models.SET_NULL, related_name="signatures"
    )
    # True while this row is included in the tallies; the flush job makes it agree with `state`.
    counted = models.BooleanField(default=False)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "canonical_email"],
                condition=~Q(canonical_email=""),
                name="signature_one_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(state=SignatureState.CONFIRMED) | Q(confirmed_at__isnull=False),
                name="signature_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(counted=True) | Q(confirmed_at__isnull=False), name="signature_counted_was_confirmed"
            ),
            models.CheckConstraint(
                condition=Q(anonymised_at__isnull=True) | Q(canonical_email=""), name="signature_anonymised_no_email"
            ),
        ]
        indexes = [
            # The public page's "latest signers", and nothing else: stays a short index scan at any size.
            models.Index(
                "petition",
                models.F("confirmed_at").desc(),
                condition=Q(state=SignatureState.CONFIRMED, show_publicly=True),
                name="signature_public_latest_idx",
            ),
            models.Index("petition", models.F("created_at").desc(), name="signature_recent_idx"),
            models.Index(fields=["petition", "state"], name="signature_state_idx"),
            # The flush job's two work lists, each tiny at rest.
            models.Index(
                fields=["id"], condition=Q(state=SignatureState.CONFIRMED, counted=False), name="signature_to_count_idx"
            ),
            models.Index(
                fields=["id"],
                condition=~Q(state=SignatureState.CONFIRMED) & Q(counted=True),
                name="signature_to_uncount_idx",
            ),
            models.Index(
                fields=["created_at"], condition=Q(state=SignatureState.PENDING), name="signature_pending_idx"
            ),
            models.Index(fields=["petition", "ip_hash", "created_at"], name="signature_ip_burst_idx"),
            models.Index(fields=["petition", "email_domain", "created_at"], name="signature_domain_burst_idx"),
            models.Index(fields=["canonical_email"], name="signature_canonical_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.public_name or 'Anonymised'} ({self.get_state_display()})"

    @property
    def public_name(self) -> str:
        """First name and last initial: all the public ever sees of a name."""
        initial = f" {self.last_name[:1]}." if self.last_name else ""
        return f"{self.first_name}{initial}".strip()

    @property
    def is_confirmed(self) -> bool:
        return self.state == SignatureState.CONFIRMED


class PetitionTally(models.Model):
    """Confirmed signatures of one petition, as of the last flush. Written only by the flush and reconcile jobs."""

    petition = models.OneToOneField(
        "petitions.Petition", primary_key=True, on_delete=models.CASCADE, related_name="tally"
    )
    confirmed = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.confirmed}"


class RegionTally(models.Model):
    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="region_tallies")
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=80, blank=True)
    confirmed = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "country", "region"], name="region_tally_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.country}/{self.region}: {self.confirmed}"


class HourTally(models.Model):
    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="hour_tallies")
    hour = models.DateTimeField()
    confirmed = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["petition", "hour"], name="hour_tally_unique")]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.hour:%Y-%m-%d %H}h: {self.confirmed}"


class CountCorrection(models.Model):
    """A drift the reconcile job found between the tallies and the rows, and corrected."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="count_corrections")
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=12)  # "total", "regions" or "hours"
    recorded = models.BigIntegerField(help_text="What the tally said (for regions and hours: rows that differed).")
    actual = models.BigIntegerField(help_text="What the rows say (for regions and hours: rows written).")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.petition_id}: {self.recorded} → {self.actual}"


# --- Deliverables: organisations' and shareholders' sign-ons, signature packets, downloads of private files --------


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
    import uuid

    return f"signons/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-{filename}"


class SignOn(models.Model):
    """An organisation (coalition letter) or a shareholder (shareholders' letter) signing a letter.

    The contact e-mail and any proof document are private: only the petition's organisers see them. Only verified
    sign-ons appear on the public page and in the compiled letter. The unique constraints on the canonical e-mail and
    the canonical website are the one truth about "has this organisation signed".
    """

    letter = models.ForeignKey("petitions.Letter", on_delete=models.CASCADE, related_name="signons")
    letter_version = models.ForeignKey("petitions.LetterVersion", on_delete=models.PROTECT, related_name="signons")
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
        from django.core.files.storage import default_storage

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


class PacketExport(models.Model):
    """A signature packet being built, or built, for a petition's organisers. The file is private and expires."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="packet_exports")
    kind = models.CharField(max_length=3, choices=PacketKind.choices)
    include_emails = models.BooleanField(default=False)
    # queued → running → done | failed; done → expired when the file is deleted (see petitions.models.JobState).
    state = models.CharField(max_length=8, default="queued")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # SHA-256 of the rows, as the CSV without e-mail addresses in packet order (printed on the PDF's cover).
    rows_checksum = models.CharField(max_length=64, blank=True)
    file_checksum = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("export_signer_emails", "Can include signers' e-mail addresses in packets")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done", "failed", "expired"]), name="packet_state_known"
            ),
            models.CheckConstraint(condition=~Q(state="done") | ~Q(file_name=""), name="packet_done_has_file"),
            models.CheckConstraint(condition=~Q(kind="pdf") | Q(include_emails=False), name="packet_pdf_no_emails"),
        ]
        indexes = [
            models.Index(fields=["petition", "-created_at"], name="packet_petition_idx"),
            models.Index(fields=["expires_at"], condition=Q(state="done"), name="packet_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.petition_id} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class PrivateDownload(models.Model):
    """Every download of a private file (packet, compiled letter, proof document): who, what, when."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="private_downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10)  # "packet", "letter", "proof" or "link" (an e-mailed expiring link)
    object_id = models.BigIntegerField()
    file_name = models.CharField(max_length=300)
    ip_hash = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
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


class IntakeReceipt(models.Model):
    """One signing-intake entry written: its id, so that an entry read again (a drain killed between its commit and
    its trim, or two drains after a lock ran out) is never written twice. Recorded in the transaction that writes
    the entry's signature; kept VIGIL_SIGN_INTAKE_RECEIPT_HOURS, far longer than an entry can wait to be trimmed."""

    entry_id = models.UUIDField(primary_key=True)
    written_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return str(self.entry_id)


class IntakeFailure(models.Model):
    """A signing-intake entry that could not be written (refused by the database, or not a signature at all), set
    aside so that the rest drain. Staff read the error in the admin and retry it once the cause is fixed. It holds
    what the signature would hold, so it is purged with unconfirmed signatures."""

    entry = models.TextField()
    error = models.TextField()
    petition_id_hint = models.BigIntegerField(null=True, blank=True)
    failed_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-failed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.failed_at:%Y-%m-%d %H:%M} {self.error[:60]}"
