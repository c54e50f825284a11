"""Rate limits on signing, failing open: if Redis is down, a signer is let through and the outage is logged.

Keys are hashed by django-ratelimit before they reach the cache, so no e-mail address is stored in Redis.
"""

import logging

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)


def rate_limited(request: HttpRequest, *, group: str, rate: str, value: str | None = None) -> bool:
    """Count this request against `group` (per client address, or per `value` such as a canonical e-mail) and say
    whether it is over `rate`. Never raises: an unreachable cache means no limit, and a warning in the log."""
    key = "ip" if value is None else (lambda _group, _request: value)
    try:
        return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
    except Exception:
        logger.warning("Rate limit %s not applied: the cache is unavailable, so the request goes through", group,
                       exc_info=True)  # fmt: skip
        return False
