"""Webhooks: a petition's events (core.Event), sent to the endpoints its owners registered.

- Registering: owners only; https only, and never an address on a loopback, private or link-local network (checked
  when the endpoint is registered and again before every request, since a name can be pointed elsewhere later), unless
  VIGIL_WEBHOOK_ALLOW_LOCAL. The secret is made here and shown to the owner once.
- Fanning out: an event becomes one WebhookDelivery per endpoint of its petition that wants its kind and existed when
  it happened (unique per endpoint and event, so a second fan-out adds nothing).
- Sending (the pump, a beat task every second and nudged after events commit): an endpoint is claimed by one worker
  at a time (a lease, as the e-mail outbox's pump does), and sent its undelivered events oldest first, up to
  VIGIL_WEBHOOK_BATCH in one POST: a JSON array, each event with its idempotency key. A 2xx marks the batch delivered.
  Anything else (a refusal, a timeout, a redirect, an address that now resolves somewhere local) leaves the batch
  undelivered and makes the endpoint wait, 5 s, 10 s, 20 s … up to an hour; after VIGIL_WEBHOOK_DISABLE_AFTER failures
  in a row it is switched off and the petition's owners are e-mailed. A worker killed between the POST and its stamp
  sends that batch again after its lease: delivery is at least once, and the idempotency key makes it once for a
  receiver that keeps the keys it has seen.
- Signing: `Vigil-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body, keyed by the endpoint's secret>`.
  The README ("Webhooks") says how a receiver checks it, with the replay window.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from api import hal
from api.models import WebhookDelivery, WebhookEndpoint
from api.representations import SiteBase, petition_json, signature_json, signatures_for
from api.services.tokens import EMAILS_PERMISSION
from core.links import absolute_url
from core.models import Event, EventKind
from deliverables.models import Delivery
from petitions.models import MembershipRole, Petition, PetitionUpdate
from petitions.selectors import petition_member_allows
from petitions.services.notices import petition_members_tell

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Vigil-Signature"
FAN_OUT_BATCH = 1000
RESPONSE_READ_LIMIT = 64 * 1024


class WebhookRefused(ValueError):
    """The endpoint cannot be registered, switched on or sent to; the message says why (and `field`, which of the
    form's fields it is about, if one)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown to the owner once


# --- Where a request may go ---------------------------------------------------------------------------------------


def _forbidden(address: str) -> bool:
    found = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        found = found.ipv4_mapped
    return not found.is_global or found.is_multicast


def destination_addresses(url: str) -> list[str]:
    """The addresses `url` may be sent to now, or WebhookRefused saying why not.

    Every address the name resolves to must be public: a name with one private address among public ones could be
    answered with that one at connection time."""
    parts = urlsplit(url)
    allow_local = settings.VIGIL_WEBHOOK_ALLOW_LOCAL
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused("Give a full address, starting with https://.", field="url")
    if parts.scheme != "https" and not allow_local:
        raise WebhookRefused("Use an https:// address: events carry signers' names.", field="url")
    if parts.username or parts.password:
        raise WebhookRefused("Leave the user name and password out of the address; the signature header proves "
                             "the events are from this site.", field="url")  # fmt: skip
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except ValueError as exc:
        raise WebhookRefused("The address's port is not a number from 1 to 65535.", field="url") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookRefused(f"The name {parts.hostname} does not resolve to any address.", field="url") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not allow_local:
        for address in addresses:
            if _forbidden(address):
                raise WebhookRefused(
                    f"{parts.hostname} resolves to {address}, an address on a loopback, private or link-local "
                    "network: events are only sent to public addresses.",
                    field="url",
                )
    return addresses


# --- Registering --------------------------------------------------------------------------------------------------


def _require_owner(*, petition: Petition, user: User) -> None:
    if not petition_member_allows(petition_id=petition.pk, user=user, role=MembershipRole.OWNER):
        raise WebhookRefused("Only the petition's owners manage its webhooks.")


def _sends_events_refresh(*, petition_id: int) -> None:
    """Events are written while the petition has an endpoint, switched on or off: one switched off catches up when it
    is switched back on (within VIGIL_WEBHOOK_LOG_DAYS)."""
    Petition.objects.filter(pk=petition_id).update(
        sends_events=Exists(WebhookEndpoint.objects.filter(petition_id=petition_id))
    )


def webhook_endpoint_create(
    *, petition: Petition, by: User, url: str, kinds: list[str], can_read_emails: bool = False,
    now: datetime | None = None,
) -> NewEndpoint:  # fmt: skip
    _require_owner(petition=petition, user=by)
    if can_read_emails and not by.has_perm(EMAILS_PERMISSION):
        raise WebhookRefused("Only people allowed to export signers' e-mail addresses can send them to an endpoint.")
    unknown = set(kinds) - set(EventKind.values)
    if not kinds or unknown:
        raise WebhookRefused("Choose at least one kind of event.", field="kinds")
    destination_addresses(url)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        # Locked, so two owners registering at once cannot pass the limit together.
        Petition.objects.select_for_update().filter(pk=petition.pk).first()
        if WebhookEndpoint.objects.filter(petition=petition).count() >= settings.VIGIL_WEBHOOK_ENDPOINTS_PER_PETITION:
            raise WebhookRefused(
                f"A petition can have {settings.VIGIL_WEBHOOK_ENDPOINTS_PER_PETITION} endpoints; remove one first."
            )
        endpoint = WebhookEndpoint.objects.create(
            petition=petition,
            url=url,
            secret=secret,
            kinds=[kind for kind in EventKind.values if kind in kinds],
            can_read_emails=can_read_emails,
            created_by=by,
            created_at=now or timezone.now(),
        )
        _sends_events_refresh(petition_id=petition.pk)
    return NewEndpoint(endpoint=endpoint, secret=secret)


def webhook_endpoint_switch(*, endpoint: WebhookEndpoint, by: User, on: bool, now: datetime | None = None) -> None:
    """Switch an endpoint on (checking its address again; it resumes with what it missed) or off."""
    _require_owner(petition=endpoint.petition, user=by)
    if on:
        destination_addresses(endpoint.url)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            is_active=True, disabled_at=None, disabled_reason="", failures_in_row=0, retry_at=None
        )
    else:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=now or timezone.now(), disabled_reason=f"Switched off by {by.public_name}."
        )
    endpoint.refresh_from_db()


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, by: User) -> None:
    _require_owner(petition=endpoint.petition, user=by)
    with transaction.atomic():
        endpoint.delete()
        _sends_events_refresh(petition_id=endpoint.petition_id)


def webhook_delivery_resend(*, delivery: WebhookDelivery, by: User) -> None:
    """Send a delivered event again, with the same idempotency key (a receiver that lost it takes it; one that kept
    it drops it). It goes out with the endpoint's next batch, once the endpoint is switched on."""
    _require_owner(petition=delivery.endpoint.petition, user=by)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(delivered_at=None)


# --- Fanning out --------------------------------------------------------------------------------------------------


def webhook_events_fan_out(*, batch: int = FAN_OUT_BATCH, now: datetime | None = None) -> int:
    """Turn events not yet fanned out into deliveries, `batch` at a time. Returns the events handled.

    Concurrent runs take disjoint events (SKIP LOCKED); a run killed midway rolls back and the next does it."""
    total = 0
    while True:
        now = now or timezone.now()
        with transaction.atomic():
            events = list(
                Event.objects.select_for_update(skip_locked=True)
                .filter(fanned_out_at__isnull=True)
                .order_by("id")
                .values("id", "kind", "petition_id", "created_at")[:batch]
            )
            if not events:
                return total
            endpoints = defaultdict(list)
            for endpoint in WebhookEndpoint.objects.filter(petition_id__in={e["petition_id"] for e in events}):
                endpoints[endpoint.petition_id].append(endpoint)
            WebhookDelivery.objects.bulk_create(
                [
                    WebhookDelivery(endpoint_id=endpoint.pk, event_id=event["id"], created_at=now)
                    for event in events
                    for endpoint in endpoints[event["petition_id"]]
                    if event["kind"] in endpoint.kinds and endpoint.created_at <= event["created_at"]
                ],
                ignore_conflicts=True,
                batch_size=1000,
            )
            Event.objects.filter(pk__in=[e["id"] for e in events]).update(fanned_out_at=now)
        total += len(events)
        if len(events) < batch:
            return total


# --- What is sent -------------------------------------------------------------------------------------------------


def _events_json(*, endpoint: WebhookEndpoint, deliveries: list[WebhookDelivery]) -> list[dict]:
    """The batch's body, read from the subjects now: a signature withdrawn or anonymised since carries nothing
    personal, whatever its event says."""
    base = SiteBase()
    petition = Petition.objects.select_related("tally").get(pk=endpoint.petition_id)
    by_kind = defaultdict(set)
    for delivery in deliveries:
        by_kind[delivery.event.kind].add(delivery.event.subject_id)
    signature_ids = by_kind[EventKind.SIGNATURE_CONFIRMED] | by_kind[EventKind.SIGNATURE_WITHDRAWN]
    signatures = {s.pk: s for s in signatures_for(petition).filter(pk__in=signature_ids)} if signature_ids else {}
    sent = {d.pk: d for d in Delivery.objects.filter(pk__in=by_kind[EventKind.DELIVERY_SENT])}
    news = {u.pk: u for u in PetitionUpdate.objects.filter(pk__in=by_kind[EventKind.PETITION_UPDATE_PUBLISHED])}
    petition_link = {"identifiers": [f"{hal.NAMESPACE}:{petition.public_id}"],
                     "href": hal.api_url(base, f"petitions/{petition.public_id}")}  # fmt: skip
    body = []
    for delivery in deliveries:
        event = delivery.event
        item = {
            "idempotency_key": str(event.public_id),
            "type": event.kind,
            "created_date": hal.iso(event.created_at),
            "osdi:petition": petition_link,
        }
        if event.kind in (EventKind.SIGNATURE_CONFIRMED, EventKind.SIGNATURE_WITHDRAWN):
            signature = signatures.get(event.subject_id)
            item["osdi:signature"] = (
                signature_json(base, signature, petition=petition, emails=endpoint.can_read_emails)
                if signature is not None
                else None  # erased at the signer's request since
            )
        elif event.kind == EventKind.PETITION_STATE_CHANGED:
            item["from"], item["to"] = event.data.get("from"), event.data.get("to")
            item["osdi:petition"] = {**petition_link, **petition_json(base, petition)}
        elif event.kind == EventKind.PETITION_UPDATE_PUBLISHED:
            found = news.get(event.subject_id)
            item["vigil:update"] = (
                {
                    "title": found.title,
                    "body": found.body,
                    "published_date": hal.iso(found.published_at),
                    "browser_url": absolute_url(reverse("petitions:update", args=[petition.slug, found.number])),
                }
                if found is not None and found.published_at is not None
                else None  # taken down or removed since
            )
        elif event.kind == EventKind.DELIVERY_SENT:
            found = sent.get(event.subject_id)
            item["vigil:delivery"] = (
                {
                    "method": found.method,
                    "recipient": found.recipient_name,
                    "delivered_date": hal.iso(found.delivered_at),
                }
                if found is not None
                else None
            )
        body.append(item)
    return body


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- Sending ------------------------------------------------------------------------------------------------------


class _Sender:
    """HTTP connections kept open for one pump run, one pool per endpoint address (keep-alive between batches).

    Each request goes to an address just checked by `destination_addresses`, never to a name resolved again by the
    HTTP library, so the name cannot be re-pointed between the check and the connection. TLS still checks the
    certificate against the name in the endpoint's URL."""

    def __init__(self):
        self.pools: dict[tuple, urllib3.HTTPConnectionPool] = {}

    def post(self, *, url: str, body: bytes, headers: dict) -> int:
        parts = urlsplit(url)
        address = destination_addresses(url)[0]
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, address, port)
        pool = self.pools.get(key)
        if pool is None:
            timeout = urllib3.Timeout(total=settings.VIGIL_WEBHOOK_TIMEOUT_SECONDS)
            if parts.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    address, port, server_hostname=parts.hostname, assert_hostname=parts.hostname, timeout=timeout,
                    retries=False, maxsize=1,
                )  # fmt: skip
            else:
                pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)
            self.pools[key] = pool
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        response = pool.urlopen(
            "POST", path, body=body, headers={**headers, "Host": host}, redirect=False, retries=False,
            preload_content=False,
        )  # fmt: skip
        try:
            response.read(RESPONSE_READ_LIMIT)  # drained, so the connection can be used again; never stored
        finally:
            response.release_conn()
        return response.status

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()


def _backoff(failures: int) -> timedelta:
    first, most = settings.VIGIL_WEBHOOK_RETRY_FIRST_SECONDS, settings.VIGIL_WEBHOOK_RETRY_MAX_SECONDS
    return timedelta(seconds=min(most, first * 2 ** min(failures - 1, 30)))


def _endpoint_claim(*, now: datetime, lease: float) -> WebhookEndpoint | None:
    """Lease one switched-on, not-waiting endpoint with undelivered events to this run (committed at once); the one
    claimed longest ago first, so every endpoint gets its turn."""
    pending = WebhookDelivery.objects.filter(endpoint_id=OuterRef("pk"), delivered_at__isnull=True)
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update(skip_locked=True)
            .filter(is_active=True)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .filter(Exists(pending))
            .order_by(F("claimed_until").asc(nulls_first=True), "id")
            .first()
        )
        if endpoint is None:
            return None
        endpoint.claimed_until = now + timedelta(seconds=lease)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(claimed_until=endpoint.claimed_until)
    return endpoint


def _owners_tell(*, endpoint: WebhookEndpoint, now: datetime) -> None:
    petition = endpoint.petition
    page = absolute_url(reverse("api:webhooks", args=[petition.slug]))
    petition_members_tell(
        petition=petition, role=MembershipRole.OWNER, subject=f"Webhook switched off: {petition.title}",
        template="api/email/webhook_disabled.txt",
        context={"endpoint": endpoint, "failures": endpoint.failures_in_row, "page": page},
        idempotency_key=f"webhook-disabled:{endpoint.pk}:{now.timestamp():.0f}",
    )  # fmt: skip


def _batch_failed(*, endpoint: WebhookEndpoint, ids: list[int], status: int | None, error: str, now: datetime):
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk__in=ids).update(
            attempts=F("attempts") + 1, last_attempt_at=now, last_status=status, last_error=error[:300]
        )
        endpoint.failures_in_row += 1
        endpoint.last_failure_at, endpoint.last_error = now, error[:300]
        endpoint.retry_at = now + _backoff(endpoint.failures_in_row)
        fields = ["failures_in_row", "last_failure_at", "last_error", "retry_at"]
        if endpoint.failures_in_row >= settings.VIGIL_WEBHOOK_DISABLE_AFTER:
            endpoint.is_active, endpoint.disabled_at = False, now
            endpoint.disabled_reason = f"Switched off after {endpoint.failures_in_row} failed attempts in a row."
            fields += ["is_active", "disabled_at", "disabled_reason"]
            _owners_tell(endpoint=endpoint, now=now)
            logger.warning("Webhook endpoint %s switched off: %s", endpoint.pk, error)
        endpoint.save(update_fields=fields)


def _endpoint_drain(*, endpoint: WebhookEndpoint, sender: _Sender, deadline: float) -> int:
    """Send the endpoint's undelivered events, oldest first, a batch per request, until none is left, a request
    fails, or the run's time is up. Returns the events delivered."""
    delivered = 0
    while True:  # at least one batch per claim, however short the run
        deliveries = list(
            WebhookDelivery.objects.filter(endpoint=endpoint, delivered_at__isnull=True)
            .select_related("event")
            .order_by("id")[: settings.VIGIL_WEBHOOK_BATCH]
        )
        if not deliveries:
            break
        ids = [d.pk for d in deliveries]
        body = json.dumps(_events_json(endpoint=endpoint, deliveries=deliveries), separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"{settings.SITE_NAME}-Webhooks/1",
            SIGNATURE_HEADER: webhook_signature(secret=endpoint.secret, timestamp=timestamp, body=body),
        }
        status, error = None, ""
        try:
            status = sender.post(url=endpoint.url, body=body, headers=headers)
        except WebhookRefused as exc:
            error = str(exc)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        now = timezone.now()
        if status is not None and 200 <= status < 300:
            with transaction.atomic():
                WebhookDelivery.objects.filter(pk__in=ids).update(
                    delivered_at=now, attempts=F("attempts") + 1, last_attempt_at=now, last_status=status,
                    last_error="",
                )  # fmt: skip
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures_in_row=0, retry_at=None,
                                                                      last_success_at=now)  # fmt: skip
            endpoint.failures_in_row = 0
            delivered += len(ids)
            if time.monotonic() >= deadline:
                break
            continue
        if status is not None:
            error = f"Answered {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        _batch_failed(endpoint=endpoint, ids=ids, status=status, error=error, now=now)
        break
    return delivered


def webhooks_pump(*, max_seconds: float | None = None) -> int:
    """Fan out new events, then send every endpoint what it is owed, until nothing is left or `max_seconds` have
    passed. Returns the events delivered. Safe to run concurrently (one worker per endpoint) and twice."""
    max_seconds = 20.0 if max_seconds is None else max_seconds
    webhook_events_fan_out()
    deadline = time.monotonic() + max_seconds
    lease = max_seconds + settings.VIGIL_WEBHOOK_TIMEOUT_SECONDS + 30
    sender = _Sender()
    delivered = 0
    try:
        while True:
            endpoint = _endpoint_claim(now=timezone.now(), lease=lease)
            if endpoint is None:
                break
            try:
                delivered += _endpoint_drain(endpoint=endpoint, sender=sender, deadline=deadline)
            finally:
                # Released by ending the lease now (not by clearing it), so the next claim takes the endpoint
                # served longest ago: each endpoint gets its turn.
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(claimed_until=timezone.now())
            if time.monotonic() >= deadline:
                break
    finally:
        sender.close()
    return delivered


def webhook_log_purge(*, now: datetime | None = None) -> int:
    """Remove events (and their deliveries) older than VIGIL_WEBHOOK_LOG_DAYS. Returns the events removed."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.VIGIL_WEBHOOK_LOG_DAYS)
    _, removed = Event.objects.filter(created_at__lt=cutoff).delete()
    return removed.get(Event._meta.label, 0)
