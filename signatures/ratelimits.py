"""Rate limits on signing, failing open: if Redis is down, a signer is let through and the outage is logged.

Keys are hashed by django-ratelimit before they reach the cache, so no e-mail address is stored in Redis.

`sign_rate_limited` is the signing form's hot path. django-ratelimit's `is_ratelimited` costs two Redis round trips
per limit (ADD, then INCR), and Django's RedisCache builds a new redis-py client for each. Here both counters are one
command on one long-lived client per cache location (its connection pool is shared by the process's threads): a
small Lua script (EVALSHA) does INCR, and EXPIRE on a new key, for the address key and the e-mail key. A pipeline of
the four commands would cost about the same; the script is preferred because Redis runs it atomically, so a counter
never lives without its expiry. What each costs: bench/README.md, "Measured history". The keys, windows, rates and
expiries are django-ratelimit's own (through core.compat), so both implementations count in the same Redis keys and
honour the same RATELIMIT_* settings; `rate_limited` (django-ratelimit itself) stays for the less busy forms.
A cache that is not Redis (the embedded default's local memory) goes through django-ratelimit.
"""

import logging
import threading
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from core.compat import ratelimit_client_ip, ratelimit_counter

logger = logging.getLogger(__name__)

SIGN_IP_GROUP = "signatures:sign:ip"
SIGN_EMAIL_GROUP = "signatures:sign:email"


def rate_limited(request: HttpRequest, *, group: str, rate: str, value: str | None = None) -> bool:
    """Count this request against `group` (per client address, or per `value` such as a canonical e-mail) and say
    whether it is over `rate`. Never raises: an unreachable cache means no limit, and a warning in the log."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return False
    try:
        counter = _redis_counter()
        if counter is None:
            key = "ip" if value is None else (lambda _group, _request: value)
            return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
        # The same counter django-ratelimit keeps, counted in one round trip (the signing path's script).
        name, limit, ttl = _key(group, rate, ratelimit_client_ip(request) if value is None else value)
        return counter(keys=[name], args=[1, ttl, limit])[0] > limit
    except Exception:
        logger.warning("Rate limit %s not applied: the cache is unavailable, so the request goes through", group,
                       exc_info=True)  # fmt: skip
        return False


_clients: dict[tuple, tuple[redis.Redis, object]] = {}
_clients_lock = threading.Lock()

# KEYS: the counters, then (optionally) the intake list. ARGV: the number of counters, their expiries, their limits,
# then (optionally) the signature to hand to the intake. The signature is pushed only if no counter went over its
# limit, in the same atomic call: a signer over a limit is never recorded, one under it always is.
_COUNT_SCRIPT = """
local n = tonumber(ARGV[1])
local result = {}
local over = false
for i = 1, n do
    result[i] = redis.call('INCR', KEYS[i])
    if result[i] == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1 + i]) end
    if result[i] > tonumber(ARGV[1 + n + i]) then over = true end
end
result[n + 1] = 0
if #KEYS > n and not over then
    redis.call('RPUSH', KEYS[n + 1], ARGV[2 + 2 * n])
    result[n + 1] = 1
end
return result
"""


def redis_client() -> redis.Redis | None:
    """The long-lived redis-py client of the rate limits' cache (None if that cache is not Redis)."""
    found = _redis_pair()
    return found[0] if found else None


def _redis_counter():
    """The counting script bound to one redis-py client (and connection pool) per cache location, made once per
    process; None if the cache is not Redis."""
    found = _redis_pair()
    return found[1] if found else None


def _redis_pair():
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    config = settings.CACHES[alias]
    if config["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return None
    options = config.get("OPTIONS", {})
    location = config["LOCATION"]
    # Django's RedisCache takes several servers, writing to the first: so do these counters.
    location = (location.split(",") if isinstance(location, str) else list(location))[0]
    ident = (location, tuple(sorted(options.items())))
    found = _clients.get(ident)
    if found is None:
        with _clients_lock:
            found = _clients.get(ident)
            if found is None:
                client = redis.Redis.from_url(location, **options)
                found = _clients[ident] = (client, client.register_script(_COUNT_SCRIPT))
    return found


def _key(group: str, rate: str, value: str) -> tuple[str, int, int]:
    key, limit, ttl = ratelimit_counter(group=group, rate=rate, value=value)
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    return caches[alias].make_key(key), limit, ttl


def sign_email_limit_value(*, petition_id: int, canonical_email: str) -> str:
    """What the per-e-mail signing limit counts: one address on one petition. Counting the address alone would let a
    few posts with someone's address lock it out of every petition."""
    return f"{petition_id}:{canonical_email}"


@dataclass(frozen=True)
class SignLimits:
    ip_over: bool = False
    email_over: bool = False
    queued: bool = False  # the signature given was handed to the intake list


def sign_rate_limited(
    request: HttpRequest,
    *,
    petition_id: int,
    ip_rate: str,
    email_rate: str,
    canonical_email: str | None,
    intake: tuple[str, str] | None = None,
    source: tuple[str, str] | None = None,
) -> SignLimits:
    """Count one signing attempt against the client's address and (when the form gave one) the canonical e-mail on
    this petition, in one round trip; with `intake` (a Redis list key and a signature), push the signature onto
    that list in the same atomic call if neither limit is exceeded. Never raises: Redis down means no limit (logged
    for each limit skipped) and nothing queued, so the caller writes the signature itself.

    `source` (a group and a value, e.g. an API token's) is counted at `ip_rate` instead of the client's address:
    a tool that records signatures for many people sends them all from one address. Its answer is `ip_over`."""
    source_group = source[0] if source else SIGN_IP_GROUP
    groups = [source_group] + ([SIGN_EMAIL_GROUP] if canonical_email else [])
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return SignLimits()
    email_value = sign_email_limit_value(petition_id=petition_id, canonical_email=canonical_email or "")
    try:
        counter = _redis_counter()
        if counter is None:
            key = (lambda _g, _r: source[1]) if source else "ip"
            ip_over = is_ratelimited(request, group=source_group, key=key, rate=ip_rate, increment=True)
            email_over = bool(canonical_email) and is_ratelimited(
                request, group=SIGN_EMAIL_GROUP, key=lambda _g, _r: email_value, rate=email_rate, increment=True
            )
            return SignLimits(ip_over=ip_over, email_over=email_over)
        counters = [_key(source_group, ip_rate, source[1] if source else ratelimit_client_ip(request))]
        if canonical_email:
            counters.append(_key(SIGN_EMAIL_GROUP, email_rate, email_value))
        keys = [key for key, _limit, _ttl in counters]
        args = [len(counters), *(ttl for _key, _limit, ttl in counters), *(limit for _key, limit, _ttl in counters)]
        if intake is not None:
            keys.append(intake[0])
            args.append(intake[1])
        result = counter(keys=keys, args=args)
    except Exception:
        for group in groups:
            logger.warning("Rate limit %s not applied: the cache is unavailable, so the request goes through", group,
                           exc_info=True)  # fmt: skip
        return SignLimits()
    over = [count > limit for count, (_key, limit, _ttl) in zip(result, counters, strict=False)]
    return SignLimits(ip_over=over[0], email_over=over[1] if len(over) > 1 else False, queued=bool(result[-1]))
