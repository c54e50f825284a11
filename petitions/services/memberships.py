"""Who runs a petition: members and their roles, invitations by e-mail, and letting go of a deleted account."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services.deletion import AccountDeletionRefused
from core.links import absolute_url
from core.mail import outbound_email_queue
from petitions.models import (
    MembershipRole,
    Petition,
    PetitionInvitation,
    PetitionMembership,
)
from petitions.services.errors import PetitionError

logger = logging.getLogger(__name__)


INVITE_SALT = "petitions.invitation"


class InvitationInvalid(PetitionError):
    """The invitation link is damaged, too old, used, or for another address."""


def petition_invite(*, petition: Petition, email: str, role: str, by, now: datetime | None = None):
    """Invite an address to run this petition: an e-mail with a link that adds its owner as a member once they
    accept it, signed in with an account that has this address verified. Inviting an address again replaces the
    earlier invitation (its link stops working). The answer never says whether an account has this address."""
    from django.core import signing
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string
    from django.urls import reverse

    email = email.strip()
    with transaction.atomic():
        PetitionInvitation.objects.filter(petition=petition, email__iexact=email).delete()
        invitation = PetitionInvitation.objects.create(
            petition=petition, email=email, role=role, invited_by=by, created_at=now or timezone.now()
        )
        token = signing.TimestampSigner(salt=INVITE_SALT).sign(str(invitation.pk))
        link = reverse("petitions:organise_invitation", args=[token])
        context = {
            "petition": petition,
            "role": invitation.get_role_display(),
            "by": by.public_name if by else "",
            "url": absolute_url(link),
            "max_age_days": settings.VIGIL_INVITATION_MAX_AGE_DAYS,
            "site_name": settings.SITE_NAME,
        }
        message = EmailMessage(
            subject=f"[{settings.SITE_NAME}] You are invited to organise “{petition.title}”",
            body=render_to_string("petitions/email/invitation.txt", context),
            to=[email],
        )
        outbound_email_queue(message)
    return invitation


def petition_invitation_for_token(*, token: str) -> PetitionInvitation:
    from django.core import signing

    try:
        pk = signing.TimestampSigner(salt=INVITE_SALT).unsign(
            token, max_age=settings.VIGIL_INVITATION_MAX_AGE_DAYS * 86400
        )
    except signing.SignatureExpired as exc:
        raise InvitationInvalid("This invitation has expired. Ask the petition's owner to invite you again.") from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid("This invitation link is damaged. Copy the whole link from the e-mail.") from exc
    invitation = PetitionInvitation.objects.select_related("petition").filter(pk=int(pk)).first()
    if invitation is None:
        raise InvitationInvalid("This invitation was used, withdrawn or replaced by a newer one.")
    return invitation


def petition_invitation_accept(*, token: str, user) -> PetitionMembership:
    """Add the signed-in user as a member, if one of their verified addresses is the invited one."""
    from allauth.account.models import EmailAddress

    invitation = petition_invitation_for_token(token=token)
    if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
        raise InvitationInvalid(
            "This invitation was sent to another e-mail address. Sign in with the account that uses it (or add and "
            "verify that address in your account settings), then open the link again."
        )
    with transaction.atomic():
        membership = petition_member_add(petition=invitation.petition, user=user, role=invitation.role)
        invitation.delete()
    return membership


def petition_invitations_expire(*, now: datetime | None = None) -> int:
    """Delete invitations older than VIGIL_INVITATION_MAX_AGE_DAYS (their links no longer work)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VIGIL_INVITATION_MAX_AGE_DAYS)
    return PetitionInvitation.objects.filter(created_at__lt=cutoff).delete()[0]


def petition_member_add(*, petition: Petition, user, role: str) -> PetitionMembership:
    try:
        with transaction.atomic():
            return PetitionMembership.objects.create(petition=petition, user=user, role=role)
    except IntegrityError:
        membership = PetitionMembership.objects.get(petition=petition, user=user)
        membership.role = role
        membership.save(update_fields=["role"])
        return membership


def petition_member_remove(*, petition: Petition, membership_id: int) -> None:
    with transaction.atomic():
        membership = PetitionMembership.objects.select_for_update().filter(petition=petition, pk=membership_id).first()
        if membership is None:
            return
        owners = PetitionMembership.objects.filter(petition=petition, role=MembershipRole.OWNER).count()
        if membership.role == MembershipRole.OWNER and owners <= 1:
            raise PetitionError("A petition keeps at least one owner. Make someone else owner first.")
        membership.delete()


def memberships_release_for_account(sender=None, *, user, **kwargs) -> None:
    """An account is being deleted: refused while it is the only owner of a petition (someone must keep running it);
    otherwise its memberships go with it."""
    for membership in PetitionMembership.objects.filter(user=user, role=MembershipRole.OWNER).select_related(
        "petition"
    ):
        owners = PetitionMembership.objects.filter(petition=membership.petition, role=MembershipRole.OWNER).count()
        if owners <= 1:
            raise AccountDeletionRefused(
                f"You are the only owner of the petition “{membership.petition.title}”. Make someone else its owner "
                "first (Organise › Organisers)."
            )
