from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import health_report


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
