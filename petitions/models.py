"""Petitions: what is asked of whom, who runs it, and where it stands in its life.

The lifecycle is draft → open → closed → delivered, and archived from anywhere but open; each move is one service
in petitions/services.py, which stamps its time. Once anyone has signed, a change to the ask or the body keeps the
earlier text as a revision, shown publicly: signers agreed to a text.

Issue-6 material (sign-on letters, packets, deliveries) hangs off Petition by foreign keys in their own models, so
nothing here has to change for it; `target_email` is where a delivery goes.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PetitionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    DELIVERED = "delivered", _("Delivered")
    ARCHIVED = "archived", _("Archived")


PUBLIC_STATUSES = (PetitionStatus.OPEN, PetitionStatus.CLOSED, PetitionStatus.DELIVERED)


class PetitionQuerySet(models.QuerySet):
    def public(self):
        """What anyone may see: open, closed and delivered petitions (drafts and archived ones are not listed)."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def for_member(self, user):
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user)


def petition_image_path(instance: "Petition", filename: str) -> str:
    return f"petitions/{timezone.now():%Y/%m}/{filename}"


class Petition(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, help_text=_("The petition's address: /petitions/<slug>/."))
    target_name = models.CharField(_("decision maker"), max_length=200, help_text=_("The person asked to act."))
    target_organisation = models.CharField(max_length=200, blank=True)
    target_email = models.EmailField(
        max_length=254, blank=True, help_text=_("Private: where the petition is delivered. Never shown publicly.")
    )
    ask = models.CharField(max_length=300, help_text=_("The one-line ask, shown above the fold."))
    body = models.TextField(help_text=_("Why it matters. Paragraphs, headings, lists and links."))
    image = models.ImageField(
        upload_to=petition_image_path, width_field="image_width", height_field="image_height", blank=True
    )
    image_alt = models.CharField(max_length=300, blank=True, help_text=_("What the picture shows."))
    image_width = models.PositiveIntegerField(default=0, editable=False)
    image_height = models.PositiveIntegerField(default=0, editable=False)
    renditions = models.JSONField(default=list, blank=True, editable=False)
    goal = models.PositiveIntegerField(default=1000, help_text=_("Rises to the next milestone once reached."))
    postal_code_required = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=PetitionStatus.choices, default=PetitionStatus.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True, help_text=_("A draft opens by itself at this time."))
    closes_at = models.DateTimeField(null=True, blank=True, help_text=_("Closes by itself at this time."))
    opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set once the signers' personal data has been erased (VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS after closing).
    signers_anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PetitionQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(goal__gte=1), name="petition_goal_positive"),
            models.CheckConstraint(
                condition=Q(status=PetitionStatus.DRAFT) | Q(opened_at__isnull=False), name="petition_opened_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[PetitionStatus.CLOSED, PetitionStatus.DELIVERED]) | Q(closed_at__isnull=False),
                name="petition_closed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=PetitionStatus.DELIVERED) | Q(delivered_at__isnull=False),
                name="petition_delivered_has_time",
            ),
            models.CheckConstraint(condition=Q(image="") | ~Q(image_alt=""), name="petition_image_has_alt_text"),
        ]
        indexes = [models.Index(fields=["status", "-opened_at"], name="petition_status_idx")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("petitions:detail", args=[self.slug])

    def accepts_signatures(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.status == PetitionStatus.OPEN and (self.closes_at is None or now < self.closes_at)

    def accepts_confirmations(self) -> bool:
        """A signature made while the petition was open may still be confirmed after it closes, until delivery."""
        return self.status in (PetitionStatus.OPEN, PetitionStatus.CLOSED)

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    def goal_for(self, count: int) -> int:
        """The goal shown beside a count: the set goal, then the next round milestone once it is reached."""
        if count < self.goal:
            return self.goal
        return milestone_after(count)


def milestone_after(count: int) -> int:
    """The next round number above count: 1, 2.5, 5 × 10ⁿ (1,000 → 2,500 → 5,000 → 10,000 ...)."""
    scale = 1
    while True:
        for step in (1, 2.5, 5):
            value = int(step * scale)
            if value > count:
                return value
        scale *= 10


class MembershipRole(models.TextChoices):
    OWNER = "owner", _("Owner")  # everything, including the petition's state and its members
    ORGANISER = "organiser", _("Organiser")  # edits, reviews and invalidates signatures
    VIEWER = "viewer", _("Viewer")  # reads the dashboard


ROLE_RANK = {MembershipRole.VIEWER: 1, MembershipRole.ORGANISER: 2, MembershipRole.OWNER: 3}


class PetitionMembership(models.Model):
    """Who runs a petition. Only members (and superusers) see its private pages."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="petition_memberships")
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.ORGANISER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["petition", "-role", "pk"]
        constraints = [models.UniqueConstraint(fields=["petition", "user"], name="petition_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.petition}"

    def allows(self, role: str) -> bool:
        return ROLE_RANK[MembershipRole(self.role)] >= ROLE_RANK[MembershipRole(role)]


class PetitionInvitation(models.Model):
    """An owner's invitation to run a petition, sent to an e-mail address. The person joins when they accept it
    while signed in with an account that has that address verified; until then nobody learns whether such an account
    exists. Invitations are personal data: accepted or old ones are deleted (VIGIL_INVITATION_MAX_AGE_DAYS)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.ORGANISER)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email} · {self.get_role_display()} · {self.petition}"


class PetitionRevision(models.Model):
    """An earlier text of a petition that people signed, kept when the ask or body changed after signing began."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    ask = models.CharField(max_length=300)
    body = models.TextField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["petition", "-number"]
        constraints = [models.UniqueConstraint(fields=["petition", "number"], name="petition_revision_unique")]

    def __str__(self) -> str:
        return f"{self.petition} · revision {self.number}"


# --- Deliverables: sign-on letters, their compiled PDFs, deliveries ------------------------------------------------
# The signatories themselves (organisations, shareholders) are the ledger's: signatures.models.SignOn.


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
        return reverse("petitions:letter_detail", args=[self.petition.slug, self.slug])

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


class LetterCompile(models.Model):
    """One compiled PDF of a letter: a new numbered version each time; earlier ones stay."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="compiles")
    number = models.PositiveIntegerField()
    letter_version = models.ForeignKey(LetterVersion, on_delete=models.PROTECT, related_name="compiles")
    state = models.CharField(max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    signatory_count = models.PositiveIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True, help_text=_("SHA-256 of the PDF file."))
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

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


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
    export = models.ForeignKey("signatures.PacketExport", null=True, blank=True, on_delete=models.SET_NULL)
    compile = models.ForeignKey(LetterCompile, null=True, blank=True, on_delete=models.SET_NULL)
    label = models.CharField(max_length=300)
    file_name = models.CharField(max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True)
    as_link = models.BooleanField(default=False)

    class Meta:
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
