"""Sign-on letters: writing them (with versions once signed), opening and closing them, and compiling them to PDF.

A letter's text lives in LetterVersion rows. Until anyone signs, an edit changes the current version in place; after
that, an edit adds the next numbered version and the earlier one stays, with the sign-ons that agreed to it.

A compile is a job: `letter_compile_request` numbers it (the unique constraint on (letter, number) settles two
organisers pressing the button at once) and queues `letter_compile_task` after commit; `letter_compile_run` draws the
PDF with ReportLab (letterhead, date, recipient, body, then the verified signatories sorted by name, with the
coalition's logos in a grid) into a temporary file, renames it into place, and only then marks the compile done.
Running it twice, or again after a worker died, does no harm: a done compile is left alone, an advisory lock keeps
two workers from drawing the same one at once, and leftovers of a dead attempt are removed first.
"""

import io
import logging
from datetime import datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from core import pagecache
from core.jobs import enqueue
from core.text import plain_paragraphs
from deliverables.models import (
    JobState,
    Letter,
    LetterCompile,
    LetterKind,
    LetterState,
    LetterVersion,
    SignOn,
    SignOnState,
)
from deliverables.pdf import clean_text, fit, fonts_register, page_size, wrap
from deliverables.private_files import atomic_private_file, private_parts_remove
from deliverables.services.packets import JobProgress
from deliverables.services.signons import text_clean

logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 7_307


class LetterError(ValueError):
    """A move the letter cannot make; the message says why, for the organiser."""


# --- Writing ----------------------------------------------------------------------------------------------------------


def letter_create(*, petition, kind: str, slug: str, title: str, body: str, by, now: datetime | None = None) -> Letter:
    """A draft letter addressed to the petition's target, with its first version."""
    now = now or timezone.now()
    if kind not in LetterKind.values:
        raise LetterError("Choose a coalition letter or a shareholders' letter.")
    title = text_clean(title, field="title")
    try:
        with transaction.atomic():
            letter = Letter.objects.create(
                petition=petition, kind=kind, slug=slug, title=title, body=body.strip(), created_by=by, created_at=now
            )
            version = LetterVersion.objects.create(
                letter=letter, number=1, title=title, body=letter.body, created_at=now, created_by=by
            )
            Letter.objects.filter(pk=letter.pk).update(current_version=version)
    except IntegrityError as exc:
        raise LetterError("This petition already has a letter at that address; choose another.") from exc
    letter.current_version = version
    return letter


def letter_save(*, letter: Letter, title: str, body: str, by, now: datetime | None = None) -> LetterVersion:
    """Save new text. Once anyone has signed the current version, it is kept and a new version is added."""
    now = now or timezone.now()
    title = text_clean(title, field="title")
    body = body.strip()
    with transaction.atomic():
        current = Letter.objects.select_for_update().get(pk=letter.pk)
        version = LetterVersion.objects.filter(pk=current.current_version_id).first()
        if version is not None and (version.title, version.body) == (title, body):
            return version
        if version is not None and not SignOn.objects.filter(letter_version=version).exists():
            LetterVersion.objects.filter(pk=version.pk).update(title=title, body=body, created_at=now, created_by=by)
            version.refresh_from_db()
        else:
            number = (LetterVersion.objects.filter(letter=current).aggregate(n=Max("number"))["n"] or 0) + 1
            version = LetterVersion.objects.create(
                letter=current, number=number, title=title, body=body, created_at=now, created_by=by
            )
        Letter.objects.filter(pk=letter.pk).update(title=title, body=body, current_version=version)
        pagecache.content_changed()
    letter.title, letter.body, letter.current_version = title, body, version
    return version


def letter_open(*, letter: Letter, now: datetime | None = None) -> Letter:
    now = now or timezone.now()
    updated = Letter.objects.filter(pk=letter.pk, state__in=[LetterState.DRAFT, LetterState.CLOSED]).update(
        state=LetterState.OPEN, opened_at=now, closed_at=None
    )
    if not updated:
        raise LetterError("This letter is already open.")
    pagecache.content_changed()
    letter.refresh_from_db()
    return letter


def letter_close(*, letter: Letter, now: datetime | None = None) -> Letter:
    now = now or timezone.now()
    if not Letter.objects.filter(pk=letter.pk, state=LetterState.OPEN).update(state=LetterState.CLOSED, closed_at=now):
        raise LetterError("Only an open letter can be closed.")
    pagecache.content_changed()
    letter.refresh_from_db()
    return letter


# --- Compiling --------------------------------------------------------------------------------------------------------


def letter_compile_request(*, letter: Letter, by, queue: bool = True, now: datetime | None = None) -> LetterCompile:
    """Number a new compile of the letter's current text and queue it. LetterError if nobody verified has signed."""
    now = now or timezone.now()
    count = SignOn.objects.filter(letter=letter, state=SignOnState.VERIFIED).count()
    if count == 0:
        raise LetterError("No verified signatories yet: verify at least one before compiling the letter.")
    for _attempt in range(5):
        number = (LetterCompile.objects.filter(letter=letter).aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                compiled = LetterCompile.objects.create(
                    letter=letter,
                    number=number,
                    letter_version_id=letter.current_version_id,
                    requested_by=by,
                    created_at=now,
                    rows_total=count,
                )
            break
        except IntegrityError:
            continue
    else:
        raise LetterError("Another compile was started at the same moment; try again.")
    if queue:
        enqueue("deliverables.tasks.letter_compile_task", compiled.pk)
    return compiled


def letter_compile_file_name(compiled: LetterCompile) -> str:
    letter = compiled.letter
    return f"letters/{letter.petition_id}/{letter.slug[:60]}-v{compiled.number}-{compiled.pk}.pdf"


def letter_compile_fail(*, compile_id: int, error: str) -> None:
    LetterCompile.objects.filter(pk=compile_id).exclude(state=JobState.DONE).update(
        state=JobState.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def letter_compile_run(*, compile_id: int, now: datetime | None = None) -> LetterCompile | None:
    compiled = LetterCompile.objects.select_related("letter__petition", "letter_version").filter(pk=compile_id).first()
    if compiled is None or compiled.state == JobState.DONE:
        return compiled
    name = letter_compile_file_name(compiled)
    progress = JobProgress(table=LetterCompile._meta.db_table, job_id=compiled.pk)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, compiled.pk])
                if not cursor.fetchone()[0]:
                    return compiled
            if LetterCompile.objects.filter(pk=compiled.pk, state=JobState.DONE).exists():
                return compiled
            private_parts_remove(name)
            signons = list(
                SignOn.objects.filter(letter=compiled.letter, state=SignOnState.VERIFIED)
                .select_related("letter_version")
                .order_by("name", "pk")
            )
            if not signons:
                progress.set(state=JobState.FAILED, error="No verified signatories.", finished_at=timezone.now())
                return compiled
            signons.sort(key=lambda s: (s.name.casefold(), s.pk))
            progress.set(
                state=JobState.RUNNING,
                started_at=timezone.now(),
                rows_total=len(signons),
                rows_done=0,
                attempts=compiled.attempts + 1,
                error="",
            )
            size, checksum = _letter_pdf(compiled=compiled, signons=signons, name=name, progress=progress, now=now)
        progress.set(
            state=JobState.DONE,
            rows_done=len(signons),
            rows_total=len(signons),
            signatory_count=len(signons),
            file_name=name,
            file_size=size,
            checksum=checksum,
            finished_at=timezone.now(),
        )
    finally:
        progress.close()
    compiled.refresh_from_db()
    return compiled


def _logo_image(signon: SignOn) -> io.BytesIO | None:
    """The logo's JPEG rendition, read through the media storage (a local folder or the object store)."""
    name = signon.logo_rendition("jpeg")
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            return io.BytesIO(handle.read())
    except OSError:
        return None


def _letter_pdf(*, compiled: LetterCompile, signons: list[SignOn], name: str, progress: JobProgress, now):
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    letter = compiled.letter
    petition = letter.petition
    version = compiled.letter_version
    regular, bold = fonts_register()
    width, height = page_size()
    margin = 56
    usable = width - 2 * margin

    with atomic_private_file(name) as target:
        canvas = Canvas(target, pagesize=(width, height), pageCompression=1)
        canvas.setTitle(clean_text(version.title))
        canvas.setAuthor(settings.SITE_NAME)
        state = {"y": height - margin}

        def new_page():
            canvas.setFont(regular, 7)
            canvas.drawString(
                margin,
                margin / 2,
                f"{clean_text(version.title)} · version {version.number} · compile {compiled.number}",
            )
            canvas.drawRightString(width - margin, margin / 2, f"page {canvas.getPageNumber()}")
            canvas.showPage()
            state["y"] = height - margin

        def need(space: float):
            if state["y"] - space < margin:
                new_page()

        def line(text: str, *, font=regular, size=10.5, leading=14.5, x=margin):
            need(leading)
            canvas.setFont(font, size)
            canvas.drawString(x, state["y"] - size, text)
            state["y"] -= leading

        # Letterhead.
        canvas.setFillColorRGB(0.55, 0.1, 0.1)
        canvas.rect(margin, height - margin - 4, usable, 3, stroke=0, fill=1)
        canvas.setFillColorRGB(0, 0, 0)
        state["y"] -= 14
        line(settings.SITE_NAME, font=bold, size=16, leading=22)
        line(clean_text(petition.title), size=9, leading=20)
        line(f"{(now or timezone.now()):%d %B %Y}", leading=22)
        for text in filter(None, [petition.target_name, petition.target_organisation]):
            line(clean_text(text))
        state["y"] -= 14
        for text in wrap(clean_text(version.title), usable, font=bold, size=13):
            line(text, font=bold, size=13, leading=18)
        state["y"] -= 6
        for paragraph in plain_paragraphs(version.body):
            for text in wrap(clean_text(paragraph), usable, font=regular, size=10.5):
                line(text)
            state["y"] -= 7
        # Signatories.
        state["y"] -= 10
        heading = "Signed by" if letter.kind == LetterKind.COALITION else "Signed by these shareholders"
        line(f"{heading} ({len(signons):,})", font=bold, size=12, leading=20)
        other_versions = any(s.letter_version_id != version.pk for s in signons)
        if letter.kind == LetterKind.COALITION:
            columns, cell_w, logo_h, cell_h = 4, usable / 4, 46, 92
            for index, signon in enumerate(signons):
                column = index % columns
                if column == 0:
                    need(cell_h)
                x = margin + column * cell_w
                top = state["y"]
                logo = _logo_image(signon)
                if logo:
                    try:
                        reader = ImageReader(logo)
                        iw, ih = reader.getSize()
                        scale = min((cell_w - 14) / iw, logo_h / ih)
                        canvas.drawImage(
                            reader,
                            x + (cell_w - iw * scale) / 2,
                            top - logo_h + (logo_h - ih * scale),
                            iw * scale,
                            ih * scale,
                        )
                    except (OSError, ValueError):
                        logger.warning("Logo of sign-on %s could not be drawn", signon.pk)
                canvas.setFont(bold, 8)
                label = clean_text(signon.name) + ("*" if signon.letter_version_id != version.pk else "")
                for offset, text in enumerate(wrap(label, cell_w - 8, font=bold, size=8)[:2]):
                    canvas.drawCentredString(x + cell_w / 2, top - logo_h - 12 - offset * 10, text)
                canvas.setFont(regular, 7)
                person = ", ".join(filter(None, [clean_text(signon.signer_name), clean_text(signon.signer_role)]))
                canvas.drawCentredString(
                    x + cell_w / 2, top - logo_h - 34, fit(person, cell_w - 8, font=regular, size=7)
                )
                if column == columns - 1 or index == len(signons) - 1:
                    state["y"] -= cell_h
                progress.rows(index + 1)
        else:
            for index, signon in enumerate(signons):
                label = clean_text(signon.name) + ("*" if signon.letter_version_id != version.pk else "")
                need(15)
                canvas.setFont(bold, 10)
                canvas.drawString(margin, state["y"] - 10, fit(label, usable * 0.5, font=bold, size=10))
                canvas.setFont(regular, 10)
                canvas.drawString(
                    margin + usable * 0.52,
                    state["y"] - 10,
                    fit(clean_text(signon.signer_name), usable * 0.26, font=regular, size=10),
                )
                canvas.drawRightString(width - margin, state["y"] - 10, signon.holding_label)
                state["y"] -= 15
                progress.rows(index + 1)
        if other_versions:
            state["y"] -= 8
            line("* signed an earlier version of this letter's text.", size=8, leading=12)
        canvas.setFont(regular, 7)
        canvas.drawString(
            margin, margin / 2, f"{clean_text(version.title)} · version {version.number} · compile {compiled.number}"
        )
        canvas.drawRightString(width - margin, margin / 2, f"page {canvas.getPageNumber()}")
        canvas.save()
        size = target.commit()
    return size, target.sha256()
