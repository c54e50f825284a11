"""How a campaign ended, and the decision maker's answer: recorded by the organisers, shown on the petition's page
(a banner, the answer in full) and beside the articles about it. Separate from the lifecycle: a closed petition
may have won, been answered, or neither; an open one may already have won."""

import uuid
from datetime import date, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import strip_tags

from core.sanitize import sanitize_article_html
from core.storage import private_storage
from petitions import selectors
from petitions.models import Petition, PetitionOutcome, PetitionStatus, PetitionUpdate, UpdateKind
from petitions.services.errors import PetitionError, PetitionStateError
from petitions.services.updates import petition_update_create

MAX_RESPONSE_CHARS = 50_000


class OutcomeInvalid(PetitionError):
    """What was given cannot be recorded; `errors` says why, by field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def _require_public(petition: Petition) -> None:
    if not petition.is_public:
        raise PetitionStateError("Only a public petition (open, closed or delivered) has an outcome or a response.")


def petition_outcome_set(*, petition: Petition, outcome: str, note: str = "", now: datetime | None = None) -> None:
    """Record the outcome (or clear it with ""), with a short note for the banner."""
    _require_public(petition)
    note = note.strip()
    errors = {}
    if outcome not in PetitionOutcome.values:
        errors["outcome"] = "Choose one of the outcomes."
    elif outcome == PetitionOutcome.NO_RESPONSE and petition.status == PetitionStatus.OPEN:
        errors["outcome"] = "The petition is still open: close it before saying it ended without a response."
    if len(note) > 300:
        errors["note"] = "Keep the note to 300 characters."
    if errors:
        raise OutcomeInvalid(errors)
    Petition.objects.filter(pk=petition.pk).update(
        outcome=outcome, outcome_note=note if outcome else "", outcome_at=(now or timezone.now()) if outcome else None
    )
    selectors.petition_public_changed(petition=petition)


def _document_check(document) -> bytes:
    """The uploaded response: a whole PDF, by its content, within VIGIL_RESPONSE_DOCUMENT_MAX_BYTES."""
    cap = settings.VIGIL_RESPONSE_DOCUMENT_MAX_BYTES
    too_big = f"The document is over {cap // (1024 * 1024)} MB: link to it instead."
    if getattr(document, "size", 0) > cap:
        raise OutcomeInvalid({"document": too_big})
    document.seek(0)
    content = document.read(cap + 1)
    if len(content) > cap:
        raise OutcomeInvalid({"document": too_big})
    if not content.startswith(b"%PDF-"):
        raise OutcomeInvalid({"document": "The document must be a PDF. For a web page, give its link."})
    if b"%%EOF" not in content[-2048:]:
        raise OutcomeInvalid({"document": "This PDF is damaged or incomplete. Save it again and upload it."})
    return content


def petition_response_record(
    *,
    petition: Petition,
    text: str,
    answered_by: str,
    answered_on: date,
    link: str = "",
    document=None,
    remove_document: bool = False,
    now: datetime | None = None,
) -> None:
    """Record (or correct) the decision maker's answer, with the response itself as a PDF if given (`document`, an
    upload; it replaces the one before, which `remove_document` removes). A petition with no outcome yet gets
    "response received"."""
    _require_public(petition)
    now = now or timezone.now()
    text, answered_by, link = sanitize_article_html(text or "").strip(), answered_by.strip(), link.strip()
    errors = {}
    if not strip_tags(text).strip():
        errors["text"] = "Give the response's text, or its gist with a link to the whole."
    elif len(text) > MAX_RESPONSE_CHARS:
        errors["text"] = f"Keep the text to {MAX_RESPONSE_CHARS:,} characters; link to the rest."
    if not answered_by:
        errors["answered_by"] = "Say who answered."
    if answered_on is None or answered_on > timezone.localdate(now):
        errors["answered_on"] = "Give the date of the answer, today or earlier."
    if link and urlsplit(link).scheme not in ("https", "http"):
        errors["link"] = "A link starts with https://."
    if errors:
        raise OutcomeInvalid(errors)
    content = _document_check(document) if document else None
    changes = {"response_text": text, "response_by": answered_by[:200], "response_on": answered_on,
               "response_link": link[:500], "response_recorded_at": now}  # fmt: skip
    before = Petition.objects.filter(pk=petition.pk).values_list("response_document", flat=True).get()
    if content is not None:
        # Written whole under a new name, then pointed at; the one it replaces goes after.
        name = f"responses/{petition.pk}/{uuid.uuid4().hex}.pdf"
        changes["response_document"] = private_storage().save(name, ContentFile(content))
    elif remove_document:
        changes["response_document"] = ""
    Petition.objects.filter(pk=petition.pk).update(**changes)
    if before and "response_document" in changes:
        private_storage().delete(before)
    Petition.objects.filter(pk=petition.pk, outcome="").update(outcome=PetitionOutcome.RESPONDED, outcome_at=now)
    selectors.petition_public_changed(petition=petition)


def petition_ending_draft(*, petition: Petition, by, which: str, now: datetime | None = None) -> PetitionUpdate:
    """Draft an update from the recorded response (`which` "response") or outcome ("outcome"), for the organisers
    to edit, publish and e-mail to signers through the same approval as any mailing. Such an update may be mailed
    after the petition closed, when news no longer may."""
    current = Petition.objects.get(pk=petition.pk)
    if which == "response":
        if not current.response_recorded_at:
            raise PetitionStateError("Record the response first.")
        title = f"{current.response_by} has answered" if current.response_by else "The response"
        kind = UpdateKind.RESPONSE
    elif which == "outcome":
        if not current.outcome:
            raise PetitionStateError("Record the outcome first.")
        title = "We won" if current.outcome == PetitionOutcome.VICTORY else current.get_outcome_display().capitalize()
        kind = UpdateKind.OUTCOME
    else:
        raise PetitionStateError("Choose the response or the outcome.")
    body = render_to_string("petitions/ending_update.html", {"petition": current, "which": which})
    return petition_update_create(petition=current, by=by, title=title, body=body, kind=kind, now=now)
