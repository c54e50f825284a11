"""Writing a petition: safe text (a revision kept once anyone has signed) and its image's renditions."""

import logging
import re
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from core.images import renditions_current, renditions_store
from core.jobs import enqueue
from core.sanitize import sanitize_article_html
from petitions import selectors
from petitions.models import (
    MembershipRole,
    Petition,
    PetitionMembership,
    PetitionRevision,
    PetitionStatus,
)
from petitions.services.errors import PetitionError
from signatures.models import Signature

logger = logging.getLogger(__name__)


SLUG_MAX_LENGTH = Petition._meta.get_field("slug").max_length
SLUG_ATTEMPTS = 3
# Addresses a petition's pages cannot have: /organise/new/ starts a petition.
SLUGS_RESERVED = frozenset({"new"})


def petition_create_allowed(*, user) -> bool:
    """Who may start petitions, on the organiser pages and through the API alike: the Organisers role
    (accounts.roles) and superusers, while their account is active."""
    return user is not None and user.has_perm("petitions.add_petition")


def petition_create(*, petition: Petition, by, now: datetime | None = None) -> Petition:
    """Save a new petition (a draft, whatever it was given) and make its creator the owner. A petition given no
    address gets one made from its title (`_slug_save`)."""
    now = now or timezone.now()
    petition.body = sanitize_article_html(petition.body)
    petition.status = PetitionStatus.DRAFT
    petition.created_by = by
    petition.created_at = now
    with transaction.atomic():
        if petition.slug:
            petition.save()
        else:
            _slug_save(petition)
        if by is not None:
            PetitionMembership.objects.create(petition=petition, user=by, role=MembershipRole.OWNER)
    petition_image_queue_renditions(petition=petition)
    return petition


def _slug_free(base: str) -> str:
    """The base, or the base with the lowest number after it (`-2`, `-3`…) that no petition has. `startswith`
    lets PostgreSQL read the slug's index; the pattern keeps only the base and its numbered forms."""
    numbered = Petition.objects.filter(slug__startswith=base, slug__regex=rf"^{re.escape(base)}(-[0-9]+)?$")
    taken = set(numbered.values_list("slug", flat=True)) | SLUGS_RESERVED
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _slug_save(petition: Petition) -> None:
    """Insert the petition with an address made from its title. The unique constraint decides: another petition
    that took the same address in the meantime means the next free one is tried, then a random ending."""
    base = slugify(petition.title)[: SLUG_MAX_LENGTH - 12].strip("-") or "petition"  # room for an ending
    for attempt in range(SLUG_ATTEMPTS):
        last = attempt == SLUG_ATTEMPTS - 1
        petition.slug = f"{base}-{secrets.token_hex(4)}" if last else _slug_free(base)
        try:
            with transaction.atomic():
                petition.save()
            return
        except IntegrityError:
            if last or not Petition.objects.filter(slug=petition.slug).exists():
                raise


STATE_FIELDS = ("status", "opened_at", "closed_at", "delivered_at", "archived_at", "signers_anonymised_at",
                "sends_events", "outcome", "outcome_note", "outcome_at", "response_text", "response_by",
                "response_on", "response_link", "response_recorded_at", "response_document")  # fmt: skip


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
        # What other services move (the lifecycle, the webhooks' switch, the anonymiser) is kept as the locked row
        # has it, not as the edit page read it: an edit never undoes a move made while it was open.
        for name in STATE_FIELDS:
            setattr(petition, name, getattr(before, name))
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
