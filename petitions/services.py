"""Writes and workflows for petitions: saving safe text (with revisions once signed), the lifecycle, members."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import pagecache
from core.images import renditions_current, renditions_store
from core.jobs import enqueue
from core.sanitize import sanitize_article_html
from petitions import selectors
from petitions.models import (
    MembershipRole,
    Petition,
    PetitionInvitation,
    PetitionMembership,
    PetitionRevision,
    PetitionStatus,
)
from signatures.models import Signature
from signatures.services.privacy import signatures_anonymise_closed

logger = logging.getLogger(__name__)


class PetitionError(ValueError):
    """A move the petition cannot make; the message says why."""


class PetitionStateError(PetitionError):
    pass


# --- Text --------------------------------------------------------------------------------------------------------


def petition_create(*, petition: Petition, by, now: datetime | None = None) -> Petition:
    """Save a new petition (a draft, whatever it was given) and make its creator the owner."""
    now = now or timezone.now()
    petition.body = sanitize_article_html(petition.body)
    petition.status = PetitionStatus.DRAFT
    petition.created_by = by
    petition.created_at = now
    with transaction.atomic():
        petition.save()
        if by is not None:
            PetitionMembership.objects.create(petition=petition, user=by, role=MembershipRole.OWNER)
    petition_image_queue_renditions(petition=petition)
    return petition


def petition_save(*, petition: Petition, by=None, now: datetime | None = None) -> Petition:
    """Save an edited petition with its body sanitised. Once anyone has signed, a changed ask or body keeps the
    earlier text as a numbered revision, shown publicly beside the petition."""
    now = now or timezone.now()
    petition.body = sanitize_article_html(petition.body)
    with transaction.atomic():
        before = Petition.objects.select_for_update().filter(pk=petition.pk).first()
        if before is None:
            raise PetitionError("This petition no longer exists.")
        text_changed = (before.ask, before.body) != (petition.ask, petition.body)
        if text_changed and Signature.objects.filter(petition_id=petition.pk).exists():
            last = PetitionRevision.objects.filter(petition=petition).order_by("-number").first()
            PetitionRevision.objects.create(
                petition=petition,
                number=(last.number + 1) if last else 1,
                title=before.title,
                ask=before.ask,
                body=before.body,
                valid_from=last.valid_until if last else (before.opened_at or before.created_at),
                valid_until=now,
                changed_by=by,
            )
        image_changed = before.image.name != (petition.image.name if petition.image else "")
        if image_changed:
            petition.renditions = []
        petition.save()
    if image_changed:
        petition_image_queue_renditions(petition=petition)
    return petition


def petition_image_queue_renditions(*, petition: Petition) -> None:
    if not petition.image:
        return
    enqueue("petitions.tasks.petition_image_render_task", petition.pk)


def petition_image_render(*, petition_id: int) -> Petition | None:
    """Make the image's renditions. Safe to run twice: names are fixed per width, and a replaced image wins."""
    petition = Petition.objects.filter(pk=petition_id).first()
    if petition is None or not petition.image:
        return petition
    source_name = petition.image.name
    if renditions_current(petition.renditions, source_name):
        return petition
    stored = renditions_store(petition.image)
    Petition.objects.filter(pk=petition_id, image=source_name).update(renditions=stored)
    petition.refresh_from_db()
    selectors.petition_public_changed(petition=petition)
    return petition


# --- Lifecycle: one service per move -------------------------------------------------------------------------------


def _move(*, petition: Petition, allowed: tuple[str, ...], to: str, stamp: str, now: datetime, verb: str) -> Petition:
    with transaction.atomic():
        current = Petition.objects.select_for_update().get(pk=petition.pk)
        if current.status not in allowed:
            names = " or ".join(str(PetitionStatus(s).label).lower() for s in allowed)
            raise PetitionStateError(
                f"“{current.title}” is {current.get_status_display().lower()}; only a {names} petition can be {verb}."
            )
        fields = {"status": to, stamp: now, "updated_at": now}
        Petition.objects.filter(pk=petition.pk).update(**fields)
    for name, value in fields.items():
        setattr(petition, name, value)
    selectors.petition_public_changed(petition=petition)
    logger.info("Petition %s is now %s", petition.pk, to)
    return petition


def petition_open(*, petition: Petition, now: datetime | None = None) -> Petition:
    now = now or timezone.now()
    if petition.closes_at is not None and petition.closes_at <= now:
        raise PetitionStateError("The closing time has already passed: set a later one before opening.")
    return _move(
        petition=petition, allowed=(PetitionStatus.DRAFT,), to=PetitionStatus.OPEN, stamp="opened_at", now=now,
        verb="opened",
    )  # fmt: skip


def petition_close(*, petition: Petition, now: datetime | None = None) -> Petition:
    return _move(
        petition=petition, allowed=(PetitionStatus.OPEN,), to=PetitionStatus.CLOSED, stamp="closed_at",
        now=now or timezone.now(), verb="closed",
    )  # fmt: skip


def petition_mark_delivered(*, petition: Petition, now: datetime | None = None) -> Petition:
    return _move(
        petition=petition, allowed=(PetitionStatus.CLOSED,), to=PetitionStatus.DELIVERED, stamp="delivered_at",
        now=now or timezone.now(), verb="marked delivered",
    )  # fmt: skip


def petition_archive(*, petition: Petition, now: datetime | None = None) -> Petition:
    return _move(
        petition=petition,
        allowed=(PetitionStatus.DRAFT, PetitionStatus.CLOSED, PetitionStatus.DELIVERED),
        to=PetitionStatus.ARCHIVED, stamp="archived_at", now=now or timezone.now(), verb="archived",
    )  # fmt: skip


TRANSITIONS = {
    "open": petition_open,
    "close": petition_close,
    "deliver": petition_mark_delivered,
    "archive": petition_archive,
}


def petitions_lifecycle_due(*, now: datetime | None = None) -> dict[str, int]:
    """Beat's job: open drafts whose opening time has come, close open petitions whose closing time has passed."""
    now = now or timezone.now()
    done = {"opened": 0, "closed": 0}
    for petition in Petition.objects.filter(status=PetitionStatus.DRAFT, opens_at__lte=now):
        try:
            petition_open(petition=petition, now=now)
            done["opened"] += 1
        except PetitionStateError as exc:
            logger.warning("Petition %s could not open on schedule: %s", petition.pk, exc)
    for petition in Petition.objects.filter(status=PetitionStatus.OPEN, closes_at__lte=now):
        try:
            petition_close(petition=petition, now=now)
            done["closed"] += 1
        except PetitionStateError:
            pass  # closed meanwhile by hand
    return done


def petitions_anonymise_due(*, now: datetime | None = None) -> int:
    """Anonymise the signers of petitions closed more than VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=30 * settings.VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS)
    done = 0
    due = Petition.objects.filter(closed_at__lt=cutoff, signers_anonymised_at__isnull=True).exclude(
        status=PetitionStatus.OPEN
    )
    for petition_id in due.values_list("pk", flat=True):
        done += signatures_anonymise_closed(petition_ids=[petition_id], now=now)
        Petition.objects.filter(pk=petition_id).update(signers_anonymised_at=now)
    if done:
        pagecache.content_changed()  # names gone from the pages' lists of recent signers
    return done


# --- Members -----------------------------------------------------------------------------------------------------


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

    from core.mail import outbound_email_queue

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
            "url": f"{settings.VIGIL_LINK_SCHEME}://{settings.VIGIL_SITE_DOMAIN}{link}",
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
    from accounts.services import AccountDeletionRefused

    for membership in PetitionMembership.objects.filter(user=user, role=MembershipRole.OWNER).select_related(
        "petition"
    ):
        owners = PetitionMembership.objects.filter(petition=membership.petition, role=MembershipRole.OWNER).count()
        if owners <= 1:
            raise AccountDeletionRefused(
                f"You are the only owner of the petition “{membership.petition.title}”. Make someone else its owner "
                "first (Organise › Organisers)."
            )
