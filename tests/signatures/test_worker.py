"""With a real Celery worker: the confirmation is delivered once, after commit; the count flush runs on its queue."""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from core.models import OutboundEmail
from signatures.models import PetitionTally, Signature, SignatureState
from signatures.tasks import signature_counts_flush_task
from tests.petitions.factories import OpenPetitionFactory
from tests.signatures.helpers import form_data, link_in
from tests.utils import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_worker_delivers_the_confirmation_and_the_flush_counts_it(celery_worker):
    petition = OpenPetitionFactory()
    client = Client()
    response = client.post(reverse("petitions:sign", args=[petition.slug]), form_data(email="worker@example.org"))
    assert response.status_code == 303
    signature = Signature.objects.get()
    row = OutboundEmail.objects.get(idempotency_key=f"signature-confirm:{signature.pk}")
    assert wait_for(lambda: OutboundEmail.objects.get(pk=row.pk).sent_at is not None, timeout=30), celery_worker.log()
    delivered = [text for text in celery_worker.delivered_mail() if "worker@example.org" in text]
    assert len(delivered) == 1 and "Confirm your signature" in delivered[0]

    path = link_in(delivered[0].replace("=\n", ""), "confirm")
    assert client.post(path).status_code == 200
    assert Signature.objects.get().state == SignatureState.CONFIRMED
    with transaction.atomic():
        transaction.on_commit(signature_counts_flush_task.delay)
    assert wait_for(lambda: PetitionTally.objects.filter(petition=petition, confirmed=1).exists(), timeout=30), (
        celery_worker.log()
    )
