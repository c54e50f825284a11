"""API tokens: made by a petition's owners (the token is shown once; only its SHA-256 digest is kept), revoked by
them, checked on every call, and every call logged without anything the caller sent."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from api.models import ApiCall, ApiToken
from petitions.models import MembershipRole, Petition, PetitionMembership

TOKEN_PREFIX = "vgl_"
EMAILS_PERMISSION = "deliverables.export_signer_emails"


class TokenRefused(PermissionError):
    """The person may not make or revoke this token; the message says why."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to its maker once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_owner(*, petition: Petition, user: User) -> None:
    owner = PetitionMembership.objects.filter(petition=petition, user=user, role=MembershipRole.OWNER).exists()
    if not (owner or user.is_superuser):
        raise TokenRefused("Only the petition's owners manage its API tokens.")


def api_token_create(
    *, petition: Petition, by: User, name: str, can_write: bool = False, can_read_emails: bool = False
) -> NewToken:
    _require_owner(petition=petition, user=by)
    if can_read_emails and not by.has_perm(EMAILS_PERMISSION):
        raise TokenRefused("Only people allowed to export signers' e-mail addresses can give a token that right.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        petition=petition,
        name=name.strip()[:100],
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=_digest(secret),
        can_write=can_write,
        can_read_emails=can_read_emails,
        created_by=by,
    )
    return NewToken(token=token, secret=secret)


def api_token_revoke(*, token: ApiToken, by: User, now: datetime | None = None) -> ApiToken:
    _require_owner(petition=token.petition, user=by)
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now(),
                                                                              revoked_by=by)  # fmt: skip
    token.refresh_from_db()
    return token


def api_token_for(secret: str) -> ApiToken | None:
    """The live token a caller sent, or None for an unknown or revoked one."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    return ApiToken.objects.select_related("petition").filter(digest=_digest(secret), revoked_at__isnull=True).first()


def api_call_log(*, token: ApiToken | None, method: str, path: str, status: int, duration_ms: int) -> None:
    now = timezone.now()
    ApiCall.objects.create(token=token, method=method[:7], path=path[:300], status=status, duration_ms=duration_ms,
                           at=now)  # fmt: skip
    if token is not None and (token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # at most once a minute per token
