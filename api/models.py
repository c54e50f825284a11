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
