"""API tokens and the log of every call made with one.

A token belongs to one petition and is created by one of its owners. Only a digest of it is stored: the token is
shown once, when it is made. Its scopes say what it may do beyond reading the petition and its signatures: write
(record signatures, edit the petition) and read signers' e-mail addresses.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the tool that uses it.")
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    can_write = models.BooleanField(default=False)
    can_read_emails = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scopes(self) -> list[str]:
        return ["read"] + (["write"] if self.can_write else []) + (["emails"] if self.can_read_emails else [])


class ApiCall(models.Model):
    """One call with a token: which, what, the answer and how long it took. Nothing a caller sent is kept."""

    token = models.ForeignKey(ApiToken, null=True, on_delete=models.SET_NULL, related_name="calls")
    method = models.CharField(max_length=7)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["token", "-at"], name="api_call_token_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class WebhookEndpoint(models.Model):
    """An address that is sent a petition's events (core.Event) as they happen, signed with the endpoint's secret.

    The endpoint is a queue: its undelivered events go out oldest first, in batches, one batch at a time. A failed
    batch makes the whole endpoint wait (`retry_at`, doubling each time); after VIGIL_WEBHOOK_DISABLE_AFTER failures
    in a row it is switched off and the petition's owners are told. Switched back on, it resumes where it stopped.
    """

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    # Sent in no request: the HMAC key of the signature header. Shown to the owner once, when it is made.
    secret = models.CharField(max_length=80, editable=False)
    kinds = models.JSONField(default=list, help_text="The event kinds sent to this endpoint.")
    can_read_emails = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failures_in_row = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True, help_text="No attempt before this time (back-off).")
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending to it until then.")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: delivered once the endpoint answered 2xx to a batch holding it. The body is not
    kept (it is made from the subject when sent); what the endpoint answered is."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("core.Event", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The HTTP status answered.")
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")]
        indexes = [
            models.Index(
                fields=["endpoint", "id"], condition=models.Q(delivered_at__isnull=True), name="webhook_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"
