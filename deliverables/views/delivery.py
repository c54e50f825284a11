"""Signature packets and deliveries on the web: start an export and watch its progress, download it (logged),
deliver documents to the decision maker and read the delivery log. Every page checks the petition in its URL."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from deliverables import selectors as deliverables
from deliverables.forms import DeliveryForm, PacketForm
from deliverables.private_files import private_exists
from deliverables.services.delivery import DeliveryError, delivery_create, delivery_item_for_token, delivery_outcome
from deliverables.services.packets import (
    PacketError,
    packet_download_check,
    packet_export_request,
    packet_may_include_emails,
)
from deliverables.views.downloads import job_file_response, private_file_response
from petitions import selectors
from petitions.models import MembershipRole
from petitions.views.organise import organiser_view


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_packets(request: HttpRequest, slug: str) -> HttpResponse:
    petition, role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    may_emails = packet_may_include_emails(user=request.user, role=role)
    form = PacketForm(request.POST or None)
    if not may_emails:
        form.fields["include_emails"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            export = packet_export_request(
                petition=petition,
                kind=form.cleaned_data["kind"],
                by=request.user,
                include_emails=bool(request.POST.get("include_emails")),
                role=role,
            )
        except PacketError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Export %(n)d started: it is ready when the bar is full.") % {"n": export.pk})
            return redirect("deliverables:organise_packets", slug=petition.slug)
    context = {
        "petition": petition,
        "form": form,
        "may_emails": may_emails,
        "page": deliverables.packets_page(petition=petition, page_number=request.GET.get("page")),
        "downloads": deliverables.downloads_recent(petition=petition),
    }
    return render(request, "deliverables/packets/packets.html", context, status=400 if form.errors else 200)


@organiser_view
@require_GET
def organise_packet_progress(request: HttpRequest, slug: str, export_id: int) -> JsonResponse:
    petition, role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    export = deliverables.packet_for_petition(petition=petition, export_id=export_id)
    download = reverse("deliverables:organise_packet_download", args=[petition.slug, export.pk])
    try:
        packet_download_check(export=export, user=request.user, role=role)
    except PacketError:
        download = ""  # the page offers no link this account would be refused
    return JsonResponse(deliverables.job_progress(export, download))


@organiser_view
@require_GET
def organise_packet_download(request: HttpRequest, slug: str, export_id: int) -> HttpResponse:
    petition, role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    export = deliverables.packet_for_petition(petition=petition, export_id=export_id)
    try:
        packet_download_check(export=export, user=request.user, role=role)
    except PacketError as exc:
        raise PermissionDenied(str(exc)) from exc
    return job_file_response(
        request,
        job=export,
        petition_id=petition.pk,
        kind="packet",
        content_type="text/csv; charset=utf-8" if export.kind == "csv" else "application/pdf",
        missing="This packet is not ready, or it has expired.",
    )


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_delivery(request: HttpRequest, slug: str) -> HttpResponse:
    petition, role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    is_owner = role == MembershipRole.OWNER
    form = DeliveryForm(request.POST or None, petition=petition)
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied(_("Only the petition's owners deliver it."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                delivery = delivery_create(
                    petition=petition,
                    method=data["method"],
                    exports=list(data["exports"]),
                    compiles=list(data["compiles"]),
                    by=request.user,
                    message=data["message"],
                    note=data["note"],
                    mark_delivered=data["mark_delivered"],
                    notify_signers=data["notify_signers"],
                )
            except DeliveryError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Delivery %(n)d: %(state)s.") % {"n": delivery.pk, "state": delivery.get_state_display()}
                )
                return redirect("deliverables:organise_delivery", slug=petition.slug)
    deliveries = deliverables.deliveries_recent(petition=petition)
    for delivery in deliveries:
        delivery.mail_outcome = delivery_outcome(delivery=delivery) if delivery.method == "email" else ""
    context = {
        "petition": petition,
        "form": form,
        "is_owner": is_owner,
        "deliveries": deliveries,
        "log": deliverables.delivery_log_page(petition=petition, page_number=request.GET.get("page")),
    }
    return render(request, "deliverables/delivery/delivery.html", context, status=400 if form.errors else 200)


@never_cache
@require_GET
def delivery_file(request: HttpRequest, token: str) -> HttpResponse:
    """An expiring signed link e-mailed to the decision maker for a document too large to attach."""
    try:
        item = delivery_item_for_token(token=token)
    except DeliveryError as exc:
        return render(request, "petitions/token_problem.html", {"message": str(exc)}, status=410)
    if not item.file_name or not private_exists(item.file_name):
        raise Http404("This document is no longer available.")
    return private_file_response(
        request, petition_id=item.delivery.petition_id, kind="link", object_id=item.pk, file_name=item.file_name
    )
