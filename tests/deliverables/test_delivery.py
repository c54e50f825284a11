"""Delivery: by e-mail through the outbox (attached or as expiring links), or recorded by hand; once only; the log;
the petition moves to delivered; signers who agreed hear about it, in batches, once each."""

import pytest
from django.urls import reverse

from core.models import OutboundEmail
from deliverables.models import DeliveryEvent, DeliveryLog, DeliveryState, PrivateDownload
from deliverables.private_files import private_open
from deliverables.services.delivery import DeliveryError, delivery_create, delivery_send, delivery_updates_send
from deliverables.services.letters import letter_compile_request, letter_compile_run
from deliverables.services.packets import packet_export_request, packet_export_run
from petitions.models import PetitionStatus
from tests.deliverables.factories import OpenLetterFactory, SignOnFactory, organiser_of
from tests.petitions.factories import ClosedPetitionFactory, ConfirmedSignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed():
    return ClosedPetitionFactory()


def _documents(petition, user):
    for _ in range(3):
        ConfirmedSignatureFactory(petition=petition, contact_ok=True)
    ConfirmedSignatureFactory(petition=petition, contact_ok=False)
    export = packet_export_run(
        export_id=packet_export_request(petition=petition, kind="pdf", include_emails=False, by=user, role="owner").pk
    )
    letter = OpenLetterFactory(petition=petition)
    SignOnFactory(letter=letter)
    compiled = letter_compile_run(compile_id=letter_compile_request(letter=letter, by=user, queue=False).pk)
    return export, compiled


def test_email_delivery_goes_once_with_attachments_and_moves_the_petition(closed, django_capture_on_commit_callbacks):
    user = organiser_of(closed)
    export, compiled = _documents(closed, user)
    delivery = delivery_create(
        petition=closed, method="email", exports=[export], compiles=[compiled], by=user, message="With our compliments."
    )
    assert delivery.state == DeliveryState.QUEUED
    for _ in range(3):  # a retried, duplicated or re-queued task
        delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    row = OutboundEmail.objects.get(idempotency_key=f"petition-delivery:{delivery.pk}")
    assert delivery.state == DeliveryState.SENT and delivery.message_id == row.message_id
    assert row.to == ["ceo@megacorp.example"] and "With our compliments." in row.body_text
    assert {a["mimetype"] for a in row.attachments} == {"application/pdf"} and len(row.attachments) == 2
    for attachment in row.attachments:  # named in the private storage, which any worker on any host can read
        with private_open(attachment["private"]) as handle:
            assert handle.read(5) == b"%PDF-"
    sent = DeliveryLog.objects.get(delivery=delivery, event=DeliveryEvent.SENT)
    assert sent.to == "ceo@megacorp.example" and sent.by == user and sent.message_id == row.message_id
    assert "Signatures (PDF" in sent.what
    closed.refresh_from_db()
    assert closed.status == PetitionStatus.DELIVERED and closed.delivered_at
    assert DeliveryLog.objects.filter(delivery=delivery, event=DeliveryEvent.PETITION_DELIVERED).count() == 1


def test_large_files_go_as_expiring_links_that_are_logged(client, closed, settings):
    settings.VIGIL_DELIVERY_MAX_ATTACHMENT_BYTES = 100
    user = organiser_of(closed)
    export, compiled = _documents(closed, user)
    delivery = delivery_create(petition=closed, method="email", exports=[export], compiles=[], by=user)
    delivery_send(delivery_id=delivery.pk)
    row = OutboundEmail.objects.get(idempotency_key=f"petition-delivery:{delivery.pk}")
    assert row.attachments == []
    path = row.body_text.split("/petitions/delivered/", 1)[1].split()[0]
    response = client.get(f"/petitions/delivered/{path}")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")
    assert PrivateDownload.objects.filter(kind="link").count() == 1
    assert client.get(f"/petitions/delivered/{path[:-3]}xyz/").status_code == 410


def test_signers_who_agreed_get_one_update_each_in_batches(closed):
    user = organiser_of(closed)
    export, _compiled = _documents(closed, user)
    delivery = delivery_create(petition=closed, method="email", exports=[export], compiles=[], by=user)
    delivery_send(delivery_id=delivery.pk)
    assert delivery_updates_send(delivery_id=delivery.pk, batch=2) is True
    assert delivery_updates_send(delivery_id=delivery.pk, batch=2) is False
    assert delivery_updates_send(delivery_id=delivery.pk, batch=2) is False
    updates = OutboundEmail.objects.filter(idempotency_key__startswith=f"petition-delivered:{closed.pk}:")
    assert updates.count() == 3
    second = delivery_create(petition=closed, method="by_hand", exports=[], compiles=[], by=user, note="At the AGM")
    while delivery_updates_send(delivery_id=second.pk, batch=2):
        pass
    assert updates.count() == 3  # once per signer, ever
    delivery.refresh_from_db()
    assert delivery.updates_sent == 3 and delivery.updates_finished_at


def test_delivery_to_a_target_without_an_address_is_refused(client, closed):
    closed.target_email = ""
    closed.save()
    user = organiser_of(closed)
    export, _compiled = _documents(closed, user)
    with pytest.raises(DeliveryError, match="no e-mail address"):
        delivery_create(petition=closed, method="email", exports=[export], compiles=[], by=user)
    client.force_login(user)
    response = client.post(
        reverse("deliverables:organise_delivery", args=[closed.slug]),
        {"method": "email", "exports": [export.pk], "mark_delivered": "on"},
    )
    assert response.status_code == 400 and "no e-mail address" in response.content.decode()
    response = client.post(
        reverse("deliverables:organise_delivery", args=[closed.slug]),
        {"method": "by_hand", "note": "Handed over at the front desk", "mark_delivered": "on"},
        follow=True,
    )
    html = response.content.decode()
    assert "Recorded by hand" in html and "Handed over at the front desk" in html
    closed.refresh_from_db()
    assert closed.status == PetitionStatus.DELIVERED


def test_packets_with_emails_and_other_petitions_documents_are_never_delivered(closed):
    user = organiser_of(closed)
    ConfirmedSignatureFactory(petition=closed)
    with_emails = packet_export_run(
        export_id=packet_export_request(petition=closed, kind="csv", include_emails=True, by=user, role="owner").pk
    )
    with pytest.raises(DeliveryError, match="e-mail addresses"):
        delivery_create(petition=closed, method="email", exports=[with_emails], compiles=[], by=user)
    other = ClosedPetitionFactory()
    ConfirmedSignatureFactory(petition=other)
    foreign = packet_export_run(
        export_id=packet_export_request(petition=other, kind="csv", include_emails=False, by=user, role="owner").pk
    )
    with pytest.raises(DeliveryError, match="another petition"):
        delivery_create(petition=closed, method="email", exports=[foreign], compiles=[], by=user)


def test_delivery_page_shows_the_log_with_constant_queries(client, closed, django_assert_max_num_queries):
    user = organiser_of(closed)
    export, compiled = _documents(closed, user)
    client.force_login(user)
    url = reverse("deliverables:organise_delivery", args=[closed.slug])
    first = delivery_create(petition=closed, method="email", exports=[export], compiles=[compiled], by=user)
    delivery_send(delivery_id=first.pk)
    with django_assert_max_num_queries(60) as few:
        html = client.get(url).content.decode()
    assert "ceo@megacorp.example" in html and "Queued for sending" in html
    for _ in range(4):
        delivery_create(
            petition=closed,
            method="by_hand",
            exports=[export],
            compiles=[compiled],
            by=user,
            note="x",
            mark_delivered=False,
            notify_signers=False,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
