"""The ledger of people's signatures, and the tallies built from it.

A signature belongs to one petition (by a string reference: petitions sit above this app) and goes
pending → confirmed → withdrawn, or to invalidated when an organiser strikes out a burst of fraud. The unique
constraint on (petition, canonical e-mail) is the one truth about "has this person signed".

Counts are never bumped by a confirmation. A confirmation writes only its own row; the flush job
(services/counts.py) moves rows whose `counted` flag disagrees with their state into three tallies (per petition,
per country and region, per hour) in one statement every couple of seconds. Every tally can be rebuilt from the rows.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SignatureState(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    INVALIDATED = "invalidated", _("Invalidated")
    # Confirmed by its signer, but marked at signing by a rule (SignatureRule, action "mark"): out of counts, pages,
    # packets and the API until an organiser counts it (confirmed) or sets it aside (invalidated).
    HELD = "held", _("Held for review")


class SignatureQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(state=SignatureState.CONFIRMED)

    def pending(self):
        return self.filter(state=SignatureState.PENDING)

    def public(self):
        """Confirmed signers who agreed to be shown: the rows the public page may name."""
        return self.filter(state=SignatureState.CONFIRMED, show_publicly=True)


class RuleKind(models.TextChoices):
    IP_RANGE = "ip_range", _("Network addresses (CIDR)")
    DOMAIN = "domain", _("E-mail domain")
    DISPOSABLE = "disposable", _("Disposable e-mail domains")
    ADDRESS = "address", _("One e-mail address")
    COUNTRY_LIMIT = "country_limit", _("Limit for one country")


class RuleAction(models.TextChoices):
    REFUSE = "refuse", _("Refuse")
    MARK = "mark", _("Accept, and hold for review")
    ALLOW = "allow", _("Allow (overrides the other rules)")


# The kinds of rule that may allow (override the others): a whole list or a limit cannot be "allowed".
ALLOWABLE_KINDS = (RuleKind.IP_RANGE, RuleKind.DOMAIN, RuleKind.ADDRESS)


class SignatureRule(models.Model):
    """One rule checked when someone signs (signatures.services.rules): for every petition (`petition` empty, kept
    by staff) or for one (kept by its organisers). Rules are never deleted, only removed (`removed_at`), so a held
    signature always names the rule that held it; every change is in SignatureRuleChange."""

    petition = models.ForeignKey(
        "petitions.Petition", null=True, blank=True, on_delete=models.CASCADE, related_name="signature_rules"
    )
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    action = models.CharField(max_length=8, choices=RuleAction.choices)
    # Normalised by the service: a network in CIDR form, an ASCII domain or glob, a canonical address, a country
    # code; empty for the disposable-domains list.
    value = models.CharField(max_length=254, blank=True)
    limit = models.PositiveIntegerField(null=True, blank=True, help_text="Country limits: confirmed signatures.")
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every change (removal too): the sign path reloads its compiled rules when the latest one moves.
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "kind", "value"],
                condition=Q(removed_at__isnull=True, petition__isnull=False),
                name="signature_rule_unique_petition",
            ),
            models.UniqueConstraint(
                fields=["kind", "value"],
                condition=Q(removed_at__isnull=True, petition__isnull=True),
                name="signature_rule_unique_global",
            ),
            models.CheckConstraint(
                condition=Q(kind=RuleKind.DISPOSABLE) | ~Q(value=""), name="signature_rule_has_value"
            ),
            models.CheckConstraint(
                condition=~Q(kind=RuleKind.COUNTRY_LIMIT) | Q(limit__isnull=False, petition__isnull=False),
                name="signature_rule_country_limit",
            ),
            models.CheckConstraint(
                condition=~Q(action=RuleAction.ALLOW) | Q(kind__in=list(ALLOWABLE_KINDS)),
                name="signature_rule_allow_kinds",
            ),
        ]

    def __str__(self) -> str:
        scope = f"petition {self.petition_id}" if self.petition_id else "every petition"
        return f"{self.get_action_display()}: {self.get_kind_display()} {self.value} ({scope})"

    @property
    def description(self) -> str:
        """The rule in a few words, as organisers read it in lists."""
        if self.kind == RuleKind.DISPOSABLE:
            return str(_("any disposable e-mail domain"))
        if self.kind == RuleKind.COUNTRY_LIMIT:
            return str(_("more than %(limit)s from %(country)s") % {"limit": self.limit, "country": self.value})
        return self.value


class SignatureRuleChange(models.Model):
    """The audit of the rules: who added, changed or removed which rule, when, and what it was before and after."""

    rule = models.ForeignKey(SignatureRule, on_delete=models.CASCADE, related_name="changes")
    petition = models.ForeignKey(
        "petitions.Petition", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    change = models.CharField(max_length=8)  # "added", "changed" or "removed"
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.change} rule {self.rule_id}"

    @property
    def action_before(self) -> str:
        """What the rule did before this change, in words ("" for an addition)."""
        return RuleAction(self.before["action"]).label if self.before.get("action") else ""

    @property
    def action_after(self) -> str:
        return RuleAction(self.after["action"]).label if self.after.get("action") else ""


class InvalidationState(models.TextChoices):
    COUNTED = "counted", _("Counted, not run")
    RUNNING = "running", _("Setting aside")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Stopped")
    REVERSING = "reversing", _("Restoring")
    REVERSED = "reversed", _("Restored")


class SignatureInvalidation(models.Model):
    """An organiser's decision to set aside the signatures matching some criteria, with why: counted first (a dry
    run), then run in batches by a worker, stoppable, and reversible (signatures.services.review)."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="invalidations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    # signatures.services.review.Criteria as JSON: domain, ip_hash, country, since, until, name, rule.
    criteria = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=InvalidationState.choices, default=InvalidationState.DONE)
    # The dry run's count (signatures matching when counted); the batches' progress below.
    matched = models.PositiveIntegerField(default=0)
    signature_count = models.PositiveIntegerField(default=0)
    restored_count = models.PositiveIntegerField(default=0)
    # The run walks signatures in id order: past `after_id`, up to `upto_id` (the newest when it started).
    after_id = models.BigIntegerField(default=0)
    upto_id = models.BigIntegerField(default=0)
    batch_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="signature_invalidation_has_reason")]
        indexes = [
            models.Index(
                fields=["batch_at"],
                condition=Q(state__in=["running", "reversing"]),
                name="invalidation_active_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.signature_count} signature(s) on {self.petition_id}: {self.reason[:60]}"

    @property
    def is_active(self) -> bool:
        return self.state in (InvalidationState.RUNNING, InvalidationState.REVERSING)

    @property
    def is_counted(self) -> bool:
        """Counted (the dry run), not run yet."""
        return self.state == InvalidationState.COUNTED

    @property
    def is_reversible(self) -> bool:
        return self.state in (InvalidationState.DONE, InvalidationState.CANCELLED)


class Signature(models.Model):
    # No index of its own: every index below starts with the petition.
    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.PROTECT, related_name="signatures", db_index=False
    )
    state = models.CharField(max_length=12, choices=SignatureState.choices, default=SignatureState.PENDING)
    # The signature's id outside the site (the API's "vigil:<uuid>"): never the database's.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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
    # When the signer stopped the organisers' mail (an unsubscribe link, or the subscriptions page).
    unsubscribed_at = models.DateTimeField(null=True, blank=True, editable=False)
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
    # When the one reminder to confirm was written (signatures.services.reminders); cleared by signing again.
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    invalidation = models.ForeignKey(
        SignatureInvalidation, null=True, blank=True, on_delete=models.SET_NULL, related_name="signatures"
    )
    # Marked at signing by a rule: confirming it makes it held, not confirmed (SignatureState.HELD). The signer is
    # told nothing different. An organiser's review clears `marked` (counted) or sets it aside.
    marked = models.BooleanField(default=False, db_default=False)
    marked_by_rule = models.ForeignKey(
        SignatureRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="marked_signatures"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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
            # The API's pages of a petition's confirmed signatures, in id order (keyset: id > the last one seen).
            models.Index(
                fields=["petition", "id"], condition=Q(state=SignatureState.CONFIRMED), name="signature_api_page_idx"
            ),
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
            # Invalidation jobs walk a petition's rows in id order; the dashboard lists the held ones.
            models.Index(
                fields=["invalidation", "id"],
                condition=Q(invalidation__isnull=False),
                name="signature_invalidation_idx",
            ),
            models.Index(fields=["petition", "id"], condition=Q(state=SignatureState.HELD), name="signature_held_idx"),
            # A mailing's report: who stopped the organisers' mail since it went out.
            models.Index(
                fields=["petition", "unsubscribed_at"],
                condition=Q(unsubscribed_at__isnull=False),
                name="signature_unsubscribed_idx",
            ),
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
        """Confirmed as far as its signer can tell (a held signature looks confirmed to them)."""
        return self.state in (SignatureState.CONFIRMED, SignatureState.HELD)


class CountThreshold(models.Model):
    """A number of confirmed signatures a petition's organisers want to hear about. The count flush stamps
    `crossed_at` in the transaction that brings the tally to it (once: only an unstamped row is stamped, under the
    flush's lock); the petitions app then tells the organisers and drafts a milestone update (`handled_at`)."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="thresholds")
    count = models.PositiveIntegerField()
    crossed_at = models.DateTimeField(null=True, blank=True, editable=False)
    handled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["count"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "count"], name="count_threshold_unique"),
            models.CheckConstraint(condition=Q(count__gte=1), name="count_threshold_positive"),
        ]
        indexes = [
            models.Index(fields=["petition", "count"], condition=Q(crossed_at__isnull=True), name="threshold_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.count:,}"


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
