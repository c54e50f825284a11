"""Petitions: what is asked of whom, who runs it, and where it stands in its life.

The lifecycle is draft → open → closed → delivered, and archived from anywhere but open; each move is one service
in petitions/services/lifecycle.py, which stamps its time. Once anyone has signed, a change to the ask or the body
keeps the earlier text as a revision, shown publicly: signers agreed to a text.

Letters, packets and deliveries (the deliverables app) hang off Petition by foreign keys in their own models;
`target_email` is where a delivery goes.
"""

import uuid

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


class PetitionOutcome(models.TextChoices):
    """How the campaign ended, apart from its state: a closed petition may have won, been answered, or neither."""

    NONE = "", _("not decided")
    VICTORY = "victory", _("victory")
    RESPONDED = "responded", _("response received")
    NO_RESPONSE = "no_response", _("closed without a response")


class Petition(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, help_text=_("The petition's address: /petitions/<slug>/."))
    # The petition's id outside the site (the API's "vigil:<uuid>"): never the database's.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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
    # How it ended (petitions.services.outcomes), shown as a banner on its page and beside its articles.
    outcome = models.CharField(max_length=12, choices=PetitionOutcome.choices, blank=True, default="", editable=False)
    outcome_note = models.CharField(max_length=300, blank=True, editable=False)
    outcome_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The decision maker's answer, recorded by the organisers and shown prominently on the page.
    response_text = models.TextField(blank=True, editable=False)
    response_by = models.CharField(max_length=200, blank=True, editable=False)
    response_on = models.DateField(null=True, blank=True, editable=False)
    response_link = models.URLField(max_length=500, blank=True, editable=False)
    # The response as a PDF, if the organisers uploaded it: a private file (core.storage.private_storage), served
    # by the petition's own view while the petition is public.
    response_document = models.CharField(max_length=300, blank=True, editable=False)
    response_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # True while the petition has a webhook endpoint switched on: its events (core.Event) are written only then.
    sends_events = models.BooleanField(default=False, editable=False)
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


def role_allows(role: str, wanted: str) -> bool:
    """Whether a member holding `role` may do what needs `wanted` (an owner may do what an organiser may)."""
    return ROLE_RANK[MembershipRole(role)] >= ROLE_RANK[MembershipRole(wanted)]


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
        return role_allows(self.role, role)


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


class PetitionUpdateQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False)


class UpdateKind(models.TextChoices):
    NEWS = "news", _("News")
    MILESTONE = "milestone", _("Milestone")  # drafted when a threshold is crossed
    RESPONSE = "response", _("The decision maker's response")  # drafted from the recorded response
    OUTCOME = "outcome", _("The outcome")  # drafted from the outcome (a victory, or the end)


# Kinds that tell how a petition ended: they may be mailed at any time after it closed; news may not, past
# VIGIL_UPDATE_MAILING_DAYS_AFTER_CLOSE.
ENDING_KINDS = (UpdateKind.RESPONSE, UpdateKind.OUTCOME)


class PetitionUpdate(models.Model):
    """News of a petition, written by its organisers: a draft until published, then on the petition's page, in its
    feeds and in the sitemap. Numbered per petition from 1; the number is the update's address."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="updates")
    number = models.PositiveIntegerField(editable=False)
    kind = models.CharField(max_length=10, choices=UpdateKind.choices, default=UpdateKind.NEWS, editable=False)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Paragraphs, headings, lists and links."))
    # An optional picture, cleaned on upload (core.images) and rendered at several widths by the worker, as a
    # petition's. Shown on the update's page and in the list, never in the e-mail (a picture there would tell the
    # site who opened it).
    image = models.ImageField(
        upload_to=petition_image_path, width_field="image_width", height_field="image_height", blank=True
    )
    image_alt = models.CharField(max_length=300, blank=True, help_text=_("What the picture shows."))
    image_width = models.PositiveIntegerField(default=0, editable=False)
    image_height = models.PositiveIntegerField(default=0, editable=False)
    renditions = models.JSONField(default=list, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PetitionUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "number"], name="petition_update_number_unique"),
            models.CheckConstraint(condition=Q(image="") | ~Q(image_alt=""), name="petition_update_image_has_alt"),
        ]
        indexes = [
            models.Index(
                fields=["petition", "-published_at"],
                condition=Q(published_at__isnull=False),
                name="petition_update_published_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("petitions:update", args=[self.petition.slug, self.number])


class MailingState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting", _("Waiting for a second owner's approval")
    QUEUEING = "queueing", _("Approved: being queued")
    QUEUED = "queued", _("Queued: going out")
    CANCELLED = "cancelled", _("Cancelled")


class UpdateMailing(models.Model):
    """An update e-mailed to the petition's confirmed signers who agreed to hear from the organisers.

    One per update. Asked for by one member and approved by another who holds the owner role (four eyes: the
    database refuses the same person twice). Approval queues one outbox message per signer, in batches walked by
    signature id (`after_id`), each message with the unique key "update:<update>:<signature>"; the outbox pump
    sends them. Each message carries `mailing` = "update:<update>", by which the report counts what was sent,
    withheld (its signer withdrew or unsubscribed before it went) and failed.
    """

    update = models.OneToOneField(PetitionUpdate, on_delete=models.CASCADE, related_name="mailing")
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="mailings")
    state = models.CharField(max_length=10, choices=MailingState.choices, default=MailingState.AWAITING_APPROVAL)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # How many signers had agreed to hear from the organisers when it was approved (what progress counts up to).
    audience = models.PositiveIntegerField(default=0)
    # Queueing's cursor: the last signature id queued, moved in the same transaction as the batch's messages.
    after_id = models.BigIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True, help_text=_("When the last batch was queued."))
    # Stamped by each batch: a queueing mailing whose heartbeat is older than VIGIL_UPDATE_MAILING_STALE_SECONDS has
    # lost its worker, and the beat sweep queues it again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The report, kept once every message is finished (sent, withheld or failed).
    sent = models.PositiveIntegerField(default=0)
    withheld = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("requested_by")),
                name="update_mailing_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["awaiting", "cancelled"]) | Q(approved_at__isnull=False),
                name="update_mailing_approved_has_time",
            ),
        ]
        indexes = [models.Index(fields=["petition", "-approved_at"], name="update_mailing_recent_idx")]

    def __str__(self) -> str:
        return f"Mailing of {self.update}"

    @property
    def key(self) -> str:
        """What its outbox messages carry as `mailing`."""
        return f"update:{self.update_id}"


class BurstAlert(models.Model):
    """Organisers were told that one hashed address or one e-mail domain passed VIGIL_SIGNATURE_BURST_THRESHOLD
    signatures on their petition within one hour: once per source and hour (the unique constraint)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="burst_alerts")
    kind = models.CharField(max_length=6, choices=[("ip", _("address")), ("domain", _("e-mail domain"))])
    # The hashed address (never the address) or the domain.
    value = models.CharField(max_length=253)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-window_start"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "kind", "value", "window_start"], name="burst_alert_once")
        ]

    def __str__(self) -> str:
        return f"{self.count} from {self.kind} {self.value[:12]} on {self.petition_id}"
