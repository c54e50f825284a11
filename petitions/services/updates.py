"""Updates: news of a petition written by its organisers. A draft is saved (its text cleaned, numbered per
petition), then published: on the petition's page at once, in its feeds and sitemap, and as the webhooks' event
`petition.update_published`, written in the same transaction. A published update can be corrected or taken down;
a draft can be removed."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.html import strip_tags

from core.images import renditions_current, renditions_store
from core.jobs import enqueue
from core.models import EventKind
from core.sanitize import sanitize_article_html
from core.services.events import event_record
from petitions import selectors
from petitions.models import MailingState, Petition, PetitionUpdate, UpdateKind, UpdateMailing
from petitions.services.errors import PetitionError, PetitionStateError


class UpdateInvalid(PetitionError):
    """The update cannot be saved as written; `errors` says why, by field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def _clean(*, title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), sanitize_article_html(body or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Give the update a title."
    elif len(title) > 200:
        errors["title"] = "Keep the title to 200 characters."
    if not strip_tags(body).strip():
        errors["body"] = "Write the update's text."
    elif len(body) > settings.VIGIL_PETITION_UPDATE_MAX_CHARS:
        errors["body"] = f"Keep the text to {settings.VIGIL_PETITION_UPDATE_MAX_CHARS:,} characters."
    if errors:
        raise UpdateInvalid(errors)
    return title, body


def _picture(*, image, image_alt: str) -> str:
    image_alt = (image_alt or "").strip()
    if image and not image_alt:
        raise UpdateInvalid({"image_alt": "Describe the picture for people who cannot see it."})
    return image_alt[:300]


def petition_update_create(
    *,
    petition: Petition,
    by,
    title: str,
    body: str,
    kind: str = UpdateKind.NEWS,
    image=None,
    image_alt: str = "",
    now: datetime | None = None,
) -> PetitionUpdate:
    """Save a draft update, numbered after the petition's last (the petition's row is locked while it is numbered:
    two organisers saving at once get two numbers). `image` is a cleaned upload (core.forms.CleanImageField); its
    renditions are made by the worker."""
    title, body = _clean(title=title, body=body)
    image_alt = _picture(image=image, image_alt=image_alt)
    with transaction.atomic():
        Petition.objects.select_for_update().filter(pk=petition.pk).first()
        last = PetitionUpdate.objects.filter(petition=petition).aggregate(last=Max("number"))["last"] or 0
        update = PetitionUpdate.objects.create(
            petition=petition, number=last + 1, kind=kind, title=title, body=body, created_by=by,
            created_at=now or timezone.now(), image=image or "", image_alt=image_alt if image else "",
        )  # fmt: skip
    if update.image:
        enqueue("petitions.tasks.petition_update_image_render_task", update.pk)
    return update


def petition_update_edit(
    *,
    update: PetitionUpdate,
    title: str,
    body: str,
    image=None,
    image_alt: str | None = None,
    remove_image: bool = False,
) -> PetitionUpdate:
    """Correct an update: its text, and its picture (a new one replaces it; `remove_image` takes it away)."""
    update.title, update.body = _clean(title=title, body=body)
    fields = ["title", "body", "updated_at"]
    new_picture = bool(image) or remove_image
    if image_alt is not None or new_picture:
        keeps = image or (update.image and not remove_image)
        alt = _picture(image=keeps, image_alt=update.image_alt if image_alt is None else image_alt)
        if image:
            update.image = image
        elif remove_image:
            update.image = ""
            update.image_width = update.image_height = 0  # the field sets them to None, which the columns refuse
        update.image_alt = alt if keeps else ""
        if new_picture:
            update.renditions = []
        fields += ["image", "image_alt", "image_width", "image_height", "renditions"]
    update.save(update_fields=fields)
    if image:
        enqueue("petitions.tasks.petition_update_image_render_task", update.pk)
    if update.published_at:
        selectors.petition_public_changed(petition=update.petition)
    return update


def petition_update_publish(*, update: PetitionUpdate, now: datetime | None = None) -> bool:
    """Publish a draft. True the first time; False if it was published already (a second click does nothing)."""
    now = now or timezone.now()
    petition = update.petition
    with transaction.atomic():
        # Locked, so that the petition cannot be archived between the check and the publishing.
        current = Petition.objects.select_for_update().get(pk=petition.pk)
        if not current.is_public:
            raise PetitionStateError(
                "The petition is not public, so its updates cannot be: publish them once it is open."
            )
        published = PetitionUpdate.objects.filter(pk=update.pk, published_at__isnull=True).update(published_at=now)
        if published:
            event_record(kind=EventKind.PETITION_UPDATE_PUBLISHED, petition=petition, subject_id=update.pk, now=now)
    if published:
        update.published_at = now
        selectors.petition_public_changed(petition=petition)
    return bool(published)


def petition_update_unpublish(*, update: PetitionUpdate) -> None:
    """Take a published update down (back to a draft): off the page, the feeds and the sitemap. One that has been
    mailed (or is waiting for approval to be) stays up: the mail links to it."""
    if UpdateMailing.objects.filter(update=update).exclude(state=MailingState.CANCELLED).exists():
        raise PetitionStateError("This update has been e-mailed, or is waiting to be: it stays published.")
    if PetitionUpdate.objects.filter(pk=update.pk, published_at__isnull=False).update(published_at=None):
        update.published_at = None
        selectors.petition_public_changed(petition=update.petition)


def petition_update_delete(*, update: PetitionUpdate) -> None:
    if update.published_at:
        raise PetitionStateError("A published update is taken down first, then removed.")
    update.delete()


def petition_update_image_render(*, update_id: int) -> None:
    """Make an update's picture's renditions. Safe to run twice; a picture replaced meanwhile wins."""
    update = PetitionUpdate.objects.filter(pk=update_id).select_related("petition").first()
    if update is None or not update.image:
        return
    source_name = update.image.name
    if renditions_current(update.renditions, source_name):
        return
    stored = renditions_store(update.image)
    if PetitionUpdate.objects.filter(pk=update_id, image=source_name).update(renditions=stored) and update.published_at:
        selectors.petition_public_changed(petition=update.petition)
