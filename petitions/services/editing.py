"""Writing a petition: safe text (a revision kept once anyone has signed) and its image's renditions."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

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
