"""The petition owners' pages for webhooks: register an endpoint (its secret shown once), switch it on or off,
remove it, and read its delivery log, where any event can be sent again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import WebhookForm
from api.models import WebhookDelivery, WebhookEndpoint
from api.services.webhooks import (
    SIGNATURE_HEADER,
    WebhookRefused,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_switch,
)
from petitions import selectors
from petitions.models import MembershipRole

LOG_PAGE_SIZE = 50


def _owned(request: HttpRequest, slug: str):
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.OWNER)
    return petition


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _owned(request, slug)
    form = WebhookForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        try:
            made = webhook_endpoint_create(petition=petition, by=request.user, **form.cleaned_data)
        except WebhookRefused as exc:
            form.add_error(exc.field, str(exc))
        else:
            form = WebhookForm()
    endpoints = list(
        WebhookEndpoint.objects.filter(petition=petition)
        .select_related("created_by")
        .annotate(waiting=Count("deliveries", filter=Q(deliveries__delivered_at__isnull=True)))
    )
    return render(
        request,
        "api/webhooks.html",
        {"petition": petition, "endpoints": endpoints, "form": form, "made": made, "header": SIGNATURE_HEADER},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def webhook_log(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    petition = _owned(request, slug)
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id, petition=petition)
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-id")
    page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "api/webhook_log.html", {"petition": petition, "endpoint": endpoint, "page": page})


@login_required
@require_POST
def webhook_switch(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    petition = _owned(request, slug)
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id, petition=petition)
    on = request.POST.get("on") == "1"
    try:
        webhook_endpoint_switch(endpoint=endpoint, by=request.user, on=on)
    except WebhookRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Events are sent to it again.") if on else _("No events are sent to it now."))
    return redirect("api:webhooks", slug=petition.slug)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    petition = _owned(request, slug)
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id, petition=petition)
    try:
        webhook_endpoint_delete(endpoint=endpoint, by=request.user)
    except WebhookRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The endpoint %(url)s was removed, with its log.") % {"url": endpoint.url})
    return redirect("api:webhooks", slug=petition.slug)


@login_required
@require_POST
def webhook_resend(request: HttpRequest, slug: str, endpoint_id: int, delivery_id: int) -> HttpResponse:
    petition = _owned(request, slug)
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint__petition"),
        pk=delivery_id,
        endpoint_id=endpoint_id,
        endpoint__petition=petition,
    )
    try:
        webhook_delivery_resend(delivery=delivery, by=request.user)
    except WebhookRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The event goes out again with the endpoint's next batch."))
    page = request.POST.get("page", "1")
    return redirect(
        f"{reverse('api:webhook_log', args=[petition.slug, endpoint_id])}?page={int(page) if page.isdigit() else 1}"
    )
