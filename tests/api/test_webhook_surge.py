"""A surge of 10,000 confirmations with a webhook endpoint whose receiver is down for part of it: a real Celery
worker sends the events, and the receiver ends up with every confirmed signature exactly once by idempotency key."""

import time
from collections import Counter

import pytest
from django.utils import timezone

from api.models import WebhookDelivery, WebhookEndpoint
from api.services.webhooks import webhook_endpoint_create
from api.tasks import webhooks_pump_task
from core.models import EventKind
from signatures.models import Signature, SignatureState
from signatures.services.signing import signature_confirm, signature_confirm_token
from tests.api.receiver import Receiver, signature_valid
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import OpenPetitionFactory

SURGE = 10_000


def _pending(petition, count: int) -> list[Signature]:
    now = timezone.now()
    rows = [
        Signature(
            petition=petition, first_name="Signer", last_name=f"N{n}", email=f"s{n}@example.org",
            canonical_email=f"s{n}@example.org", email_domain="example.org", country="GB", region="Scotland",
            town="Glasgow", state=SignatureState.PENDING, created_at=now, mail_count=1,
        )
        for n in range(count)
    ]  # fmt: skip
    return Signature.objects.bulk_create(rows, batch_size=2000)


@pytest.mark.django_db(transaction=True)
def test_every_confirmed_signature_of_a_surge_arrives_exactly_once(celery_worker):
    petition = OpenPetitionFactory()
    owner = organiser_of(petition)
    receiver = Receiver().start()
    try:
        made = webhook_endpoint_create(
            petition=petition, by=owner, url=receiver.url, kinds=[EventKind.SIGNATURE_CONFIRMED]
        )
        tokens = [signature_confirm_token(signature=s) for s in _pending(petition, SURGE)]
        down_from, down_until = SURGE * 3 // 10, SURGE * 6 // 10
        started = time.monotonic()
        for n, token in enumerate(tokens):
            if n == down_from:
                receiver.stop()  # connections refused from here
            if n == down_until:
                receiver.start()
            _signature, first = signature_confirm(token=token)
            assert first
        assert time.monotonic() - started < 120

        expected = {f"vigil:{public_id}" for public_id in Signature.objects.filter(petition=petition).values_list(
            "public_id", flat=True)}  # fmt: skip
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if len({e["idempotency_key"] for e in receiver.events()}) >= SURGE:
                break
            webhooks_pump_task.delay()  # what beat does every second
            time.sleep(1)

        events = receiver.events()
        keys = Counter(e["idempotency_key"] for e in events)
        assert len(keys) == SURGE, f"{len(keys)} of {SURGE} events arrived; worker log:\n{celery_worker.log()[-3000:]}"
        by_key = {e["idempotency_key"]: e for e in events}
        arrived = [e["osdi:signature"]["identifiers"][0] for e in by_key.values()]
        assert sorted(arrived) == sorted(expected)  # each signature once, no other
        assert all(e["type"] == EventKind.SIGNATURE_CONFIRMED for e in events)
        for request in receiver.received:
            assert signature_valid(secret=made.secret, header=request.headers["Vigil-Signature"], body=request.body)

        endpoint = WebhookEndpoint.objects.get(pk=made.endpoint.pk)
        assert endpoint.last_failure_at is not None, "the receiver's downtime was never met"
        assert endpoint.is_active
        assert not WebhookDelivery.objects.filter(endpoint=endpoint, delivered_at__isnull=True).exists()
    finally:
        receiver.stop()
