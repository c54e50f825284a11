"""Where a request came from.

The client's address is the N-th entry from the right of X-Forwarded-For when N trusted proxies stand in front of
the site (DJANGO_TRUSTED_PROXY_COUNT), or a header that one trusted proxy sets (DJANGO_TRUSTED_CLIENT_IP_HEADER),
or else the socket's own REMOTE_ADDR. Entries left of the trusted ones were written by the client and are ignored.
allauth is given the same two settings, and django-ratelimit calls this function, so both see the same address.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.9:51234
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address as the configured proxies report it; falls back to REMOTE_ADDR."""
    header = settings.VIGIL_TRUSTED_CLIENT_IP_HEADER
    if header:
        found = _clean(request.headers.get(header))
        if found:
            return found
    count = settings.VIGIL_TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("X-Forwarded-For")
    if count > 0 and forwarded:
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            found = _clean(hops[-count])
            if found:
                return found
    return _clean(request.META.get("REMOTE_ADDR")) or "0.0.0.0"
