"""Reads for the deliverables' pages: letters, sign-ons, compiles, packets, deliveries. Every list is paginated."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.http import Http404

from deliverables.models import (
    Delivery,
    DeliveryLog,
    JobState,
    Letter,
    LetterCompile,
    LetterState,
    LetterVersion,
    PacketExport,
    PrivateDownload,
    SignOn,
    SignOnState,
)

ORGANISER_PAGE_SIZE = 50


def letters_for_petition(*, petition) -> list[Letter]:
    return list(
        Letter.objects.filter(petition=petition)
        .select_related("current_version")
        .annotate(
            verified=Count("signons", filter=Q(signons__state=SignOnState.VERIFIED)),
            waiting=Count("signons", filter=Q(signons__state=SignOnState.CONFIRMED)),
        )
        .order_by("created_at", "pk")
    )


def letter_for_petition(*, petition, slug: str) -> Letter:
    letter = Letter.objects.filter(petition=petition, slug=slug).select_related("current_version").first()
    if letter is None:
        raise Http404("No letter at this address.")
    letter.petition = petition
    return letter


def letter_public(*, petition, slug: str) -> Letter:
    letter = letter_for_petition(petition=petition, slug=slug)
    if letter.state == LetterState.DRAFT:
        raise Http404("No letter at this address.")
    return letter


def signons_public_page(*, letter: Letter, page_number) -> Page:
    queryset = (
        SignOn.objects.verified()
        .filter(letter=letter)
        .order_by("name", "pk")
        .only(
            "name", "website", "logo", "renditions", "signer_name", "signer_role", "holding_kind", "shares", "letter_id"
        )
    )
    return Paginator(queryset, settings.VIGIL_SIGNON_PAGE_SIZE).get_page(page_number)


def signons_review_page(*, letter: Letter, state: str, page_number) -> Page:
    queryset = SignOn.objects.filter(letter=letter).select_related("letter_version", "reviewed_by")
    if state in SignOnState.values:
        queryset = queryset.filter(state=state)
    return Paginator(queryset.order_by("state", "name", "pk"), ORGANISER_PAGE_SIZE).get_page(page_number)


def signon_counts(*, letter: Letter) -> dict[str, int]:
    found = dict(SignOn.objects.filter(letter=letter).values_list("state").annotate(n=Count("pk")).order_by())
    return {state.value: found.get(state.value, 0) for state in SignOnState}


def letter_versions(*, letter: Letter) -> list[LetterVersion]:
    return list(LetterVersion.objects.filter(letter=letter).annotate(signed=Count("signons")).order_by("-number"))


def compiles_page(*, letter: Letter, page_number) -> Page:
    queryset = LetterCompile.objects.filter(letter=letter).select_related("letter_version", "requested_by")
    return Paginator(queryset.order_by("-number"), 20).get_page(page_number)


def compile_for_petition(*, petition, compile_id: int) -> LetterCompile:
    compiled = LetterCompile.objects.select_related("letter").filter(pk=compile_id, letter__petition=petition).first()
    if compiled is None:
        raise Http404("No such compile.")
    return compiled


def packets_page(*, petition, page_number) -> Page:
    queryset = PacketExport.objects.filter(petition=petition).select_related("requested_by").order_by("-created_at")
    return Paginator(queryset, 20).get_page(page_number)


def packet_for_petition(*, petition, export_id: int) -> PacketExport:
    export = PacketExport.objects.filter(pk=export_id, petition=petition).first()
    if export is None:
        raise Http404("No such packet.")
    return export


def downloads_recent(*, petition, limit: int = 20) -> list[PrivateDownload]:
    return list(PrivateDownload.objects.filter(petition=petition).select_related("user")[:limit])


def delivery_log_page(*, petition, page_number) -> Page:
    queryset = DeliveryLog.objects.filter(petition=petition).select_related("by", "delivery")
    return Paginator(queryset, ORGANISER_PAGE_SIZE).get_page(page_number)


def deliveries_recent(*, petition, limit: int = 20) -> list[Delivery]:
    return list(
        Delivery.objects.filter(petition=petition).select_related("requested_by").prefetch_related("items")[:limit]
    )


def job_progress(job: LetterCompile | PacketExport, download_url: str) -> dict:
    """What a job's progress poll answers: its state, rows done of total, and the download once it is ready."""
    return {
        "state": job.state,
        "label": job.get_state_display(),
        "done": job.rows_done,
        "total": job.rows_total,
        "percent": job.percent,
        "download": download_url if job.state == JobState.DONE else "",
        "error": job.error,
    }
