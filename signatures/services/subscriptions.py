"""Whether a signer hears from a petition's organisers, and the links that let them stop.

A signer agrees when signing (`contact_ok`); every mailing to them carries a one-click unsubscribe link (RFC 8058)
for that petition and a link to the page of all their subscriptions. Both links carry a signed signature id, not
an address: the subscriptions page finds the signer's other signatures by the canonical e-mail of that one. The
links do not expire (an unsubscribe link must work for as long as the mail is kept) and are refused once altered.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Q
from django.utils import timezone

from signatures.models import Signature, SignatureState

_UNSUBSCRIBE_SALT = "vigil.signatures.unsubscribe"
_SUBSCRIPTIONS_SALT = "vigil.signatures.subscriptions"


def unsubscribe_token(*, signature_id: int) -> str:
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign(str(signature_id))


def subscriptions_token(*, signature_id: int) -> str:
    return signing.Signer(salt=_SUBSCRIPTIONS_SALT).sign(str(signature_id))


def _read(token: str, salt: str) -> int | None:
    try:
        value = signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def unsubscribe_token_read(token: str) -> int | None:
    """The signature id an unsubscribe link names, or None for a link that was altered."""
    return _read(token, _UNSUBSCRIBE_SALT)


def subscriptions_token_read(token: str) -> int | None:
    return _read(token, _SUBSCRIPTIONS_SALT)


def signature_unsubscribe(*, signature_id: int, now: datetime | None = None) -> bool:
    """Stop the organisers' mail to this signature: no later mailing queues it, and a message of a mailing already
    queued but not yet sent is withheld when its turn comes. True if it was subscribed; False if it was not (a
    second click, a link used twice), which is not an error."""
    return bool(
        Signature.objects.filter(pk=signature_id, contact_ok=True).update(
            contact_ok=False, unsubscribed_at=now or timezone.now()
        )
    )


def signature_resubscribe(*, signature_id: int) -> bool:
    """Hear from the organisers again (from the subscriptions page): only a confirmed signature whose person has not
    been erased. True if it changed."""
    return bool(
        Signature.objects.filter(pk=signature_id, contact_ok=False, state=SignatureState.CONFIRMED)
        .exclude(canonical_email="")
        .update(contact_ok=True, unsubscribed_at=None)
    )


@dataclass(frozen=True)
class Subscription:
    signature_id: int
    petition_title: str
    petition_slug: str
    subscribed: bool
    confirmed: bool


def subscription_of(*, signature_id: int) -> Subscription | None:
    """The petition an unsubscribe link is about, and whether its mail still comes; None for a signature that is
    gone."""
    row = (
        Signature.objects.filter(pk=signature_id)
        .select_related("petition")
        .only("pk", "contact_ok", "state", "petition__title", "petition__slug")
        .first()
    )
    if row is None:
        return None
    return Subscription(signature_id=row.pk, petition_title=row.petition.title, petition_slug=row.petition.slug,
                        subscribed=row.contact_ok, confirmed=row.state == SignatureState.CONFIRMED)  # fmt: skip


def signer_subscriptions(*, signature_id: int) -> list[Subscription]:
    """Every petition the person behind this signature signed (the same canonical e-mail), and whether its
    organisers may write to them; nothing for an erased or withdrawn signature."""
    signature = Signature.objects.filter(pk=signature_id).values("canonical_email").first()
    if signature is None or not signature["canonical_email"]:
        return []
    rows = (
        Signature.objects.filter(canonical_email=signature["canonical_email"])
        .filter(Q(state=SignatureState.CONFIRMED) | Q(contact_ok=True))
        .select_related("petition")
        .only("pk", "contact_ok", "state", "petition__title", "petition__slug")
        .order_by("petition__title", "pk")
    )
    return [
        Subscription(
            signature_id=row.pk,
            petition_title=row.petition.title,
            petition_slug=row.petition.slug,
            subscribed=row.contact_ok,
            confirmed=row.state == SignatureState.CONFIRMED,
        )
        for row in rows
    ]


def signer_owns(*, signature_id: int, other_id: int) -> bool:
    """Whether `other_id` belongs to the same person as `signature_id` (the subscriptions page acts only on those)."""
    canonical = Signature.objects.filter(pk=signature_id).values_list("canonical_email", flat=True).first()
    return bool(canonical) and Signature.objects.filter(pk=other_id, canonical_email=canonical).exists()
