"""What every call to /api/v1/ goes through before and after the API itself:
- paths with and without a trailing slash are the same resource (Action Network's clients write both), answered
  in place, never with a redirect (a POST would be lost);
- a body over VIGIL_API_MAX_BODY_BYTES is refused before it is read;
- a GET answer carries an ETag, and If-None-Match with it gets 304 and no body;
- the call is logged: token, method, path, status and time, nothing the caller sent (api.services.tokens)."""

import hashlib
import json
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from api.services.tokens import api_call_log

PREFIX = "/api/v1"


def _refused(status: int, message: str) -> HttpResponse:
    return HttpResponse(json.dumps({"error": message}), status=status, content_type="application/hal+json")


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            return self.get_response(request)
        started = time.monotonic()
        if path == PREFIX:
            request.path_info = PREFIX + "/"
        elif path.endswith("/") and path != PREFIX + "/" and not path.startswith(PREFIX + "/docs/"):
            request.path_info = path.rstrip("/")
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > settings.VIGIL_API_MAX_BODY_BYTES:
            response = _refused(413, f"The body is over {settings.VIGIL_API_MAX_BODY_BYTES:,} bytes.")
        else:
            response = self.get_response(request)
        if request.method == "GET" and response.status_code == 200 and not response.streaming:
            etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
            response["ETag"] = etag
            if etag in [tag.strip() for tag in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
                response = HttpResponse(status=304)
                response["ETag"] = etag
        api_call_log(
            token=getattr(request, "api_token", None), method=request.method or "", path=request.path,
            status=response.status_code, duration_ms=int(1000 * (time.monotonic() - started)),
        )  # fmt: skip
        return response
