import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import health_report
from core.outage import DATABASE_DOWN, database_unreachable, outage_response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 "ok", or "degraded" naming what is down or behind; 503 "unavailable" only when the site cannot take
    signatures (core.health). `?detail=1` adds the figures a monitor graphs: backlogs, their ages, the drain lock."""
    verdict, body = health_report(detail=request.GET.get("detail") == "1")
    return JsonResponse(body, status=503 if verdict == "unavailable" else 200)


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's refusal, as a page that says when to try again."""
    return render(request, "429.html", status=429)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    # django-ratelimit's Ratelimited is a PermissionDenied; RatelimitMiddleware answers it first, this is the rest.
    return render(request, "403.html", {"reason": str(exception) if str(exception) else ""}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, except that a database which cannot be reached answers the outage page (503, Retry-After):
    for errors raised outside a view (in a middleware), which core.outage's middleware does not see."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_DOWN):
        database_unreachable(error)
        return outage_response()
    return HttpResponse(render_to_string("500.html"), status=500)
