"""Where a request came from.

Forwarding headers are believed only from the proxies listed in DJANGO_TRUSTED_PROXIES (addresses or networks):
a request whose socket address (REMOTE_ADDR) is not one of them is from the client itself, whatever headers it
carries. From a listed proxy, the client's address is the N-th entry from the right of X-Forwarded-For when N
proxies stand in front of the site (DJANGO_TRUSTED_PROXY_COUNT), or the header that the proxy sets
(DJANGO_TRUSTED_CLIENT_IP_HEADER). Entries left of the trusted ones were written by the client and are ignored.
allauth's adapter (accounts.adapter) and django-ratelimit both call this function, so both see the same address.
"""

import functools
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


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def from_trusted_proxy(address: str | None) -> bool:
    if not address or not settings.VIGIL_TRUSTED_PROXIES:
        return False
    found = ipaddress.ip_address(address)
    return any(found in network for network in _networks(tuple(settings.VIGIL_TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    """The client's address as the trusted proxies report it; otherwise the socket's own address."""
    remote = _clean(request.META.get("REMOTE_ADDR"))
    if not from_trusted_proxy(remote):
        return remote or "0.0.0.0"
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
    return remote or "0.0.0.0"
