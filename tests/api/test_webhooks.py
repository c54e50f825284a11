"""Webhooks: the events written with what caused them, an owner registering an endpoint, the pump sending signed
batches to a real HTTP receiver, back-off and switching off, refused destinations, the log and sending again."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api.models import WebhookDelivery, WebhookEndpoint
from api.services.webhooks import (
    WebhookRefused,
    destination_addresses,
    webhook_endpoint_create,
    webhook_endpoint_switch,
    webhook_events_fan_out,
    webhook_log_purge,
    webhooks_pump,
)
from core.models import Event, EventKind
from petitions.models import MembershipRole, Petition
from petitions.services.errors import PetitionStateError
from petitions.services.lifecycle import petition_archive, petition_close
from signatures.models import Signature, SignatureState
from signatures.services.signing import (
    signature_confirm,
    signature_confirm_token,
    signature_withdraw,
    signature_withdraw_token,
)
from tests.api.receiver import Receiver, signature_valid
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import OpenPetitionFactory
from tests.signatures.helpers import outbox_rows, sign

pytestmark = pytest.mark.django_db

ALL_KINDS = list(EventKind.values)


@pytest.fixture
def receiver():
    found = Receiver().start()
    yield found
    found.stop()


def _endpoint(petition, owner, receiver, **extra):
    made = webhook_endpoint_create(petition=petition, by=owner, url=receiver.url, kinds=ALL_KINDS, **extra)
    return made.endpoint, made.secret


def _signed_and_confirmed(petition, email: str) -> Signature:
    signature = Signature.objects.get(pk=sign(petition, email).signature_id)
    signature_confirm(token=signature_confirm_token(signature=signature))
    signature.refresh_from_db()
    return signature


# --- Events are written with what caused them ------------------------------------------------------------------------


def test_no_event_is_written_for_a_petition_without_endpoints(petition):
    _signed_and_confirmed(petition, "ann@example.org")
    petition_close(petition=petition)
    assert not Event.objects.exists()


def test_confirming_withdrawing_and_moving_write_their_events(petition, owner, receiver):
    _endpoint(petition, owner, receiver)
    petition.refresh_from_db()
    assert petition.sends_events
    confirmed = _signed_and_confirmed(petition, "ann@example.org")
    pending = Signature.objects.get(pk=sign(petition, "bob@example.org").signature_id)
    signature_withdraw(token=signature_withdraw_token(signature=pending))  # never confirmed: nothing to take back
    signature_withdraw(token=signature_withdraw_token(signature=confirmed))
    petition_close(petition=petition)

    events = list(Event.objects.order_by("id").values_list("kind", "subject_id", "data"))
    assert events == [
        (EventKind.SIGNATURE_CONFIRMED, confirmed.pk, {}),
        (EventKind.SIGNATURE_WITHDRAWN, confirmed.pk, {}),
        (EventKind.PETITION_STATE_CHANGED, petition.pk, {"from": "open", "to": "closed"}),
    ]


def test_a_second_click_on_a_confirmation_link_writes_no_second_event(petition, owner, receiver):
    _endpoint(petition, owner, receiver)
    signature = Signature.objects.get(pk=sign(petition, "ann@example.org").signature_id)
    token = signature_confirm_token(signature=signature)
    assert signature_confirm(token=token)[1] is True
    assert signature_confirm(token=token)[1] is False
    assert Event.objects.filter(kind=EventKind.SIGNATURE_CONFIRMED).count() == 1


def test_a_refused_move_writes_no_event(petition, owner, receiver):
    _endpoint(petition, owner, receiver)
    with pytest.raises(PetitionStateError):
        petition_archive(petition=petition)  # an open petition cannot be archived
    assert not Event.objects.exists()


# --- Registering -----------------------------------------------------------------------------------------------------


def test_an_owner_registers_an_endpoint_and_sees_its_secret_once(client, petition, owner, receiver):
    client.force_login(owner)
    page = reverse("api:webhooks", args=[petition.slug])
    response = client.post(page, {"url": receiver.url, "kinds": [EventKind.SIGNATURE_CONFIRMED]})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(petition=petition)
    assert endpoint.secret.encode() in response.content
    assert endpoint.kinds == [EventKind.SIGNATURE_CONFIRMED]
    again = client.get(page)
    assert endpoint.secret.encode() not in again.content
    assert receiver.url.encode() in again.content


def test_an_organiser_who_is_not_an_owner_cannot_reach_the_page(client, petition):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    client.force_login(organiser)
    response = client.get(reverse("api:webhooks", args=[petition.slug]))
    assert response.status_code in (403, 404)
    with pytest.raises(WebhookRefused):
        webhook_endpoint_create(petition=petition, by=organiser, url="https://example.org/", kinds=ALL_KINDS)


def test_the_page_refuses_a_local_address_with_a_message_at_the_field(client, petition, owner, settings):
    settings.VIGIL_WEBHOOK_ALLOW_LOCAL = False
    client.force_login(owner)
    response = client.post(
        reverse("api:webhooks", args=[petition.slug]),
        {"url": "https://127.0.0.1:8443/hook", "kinds": [EventKind.SIGNATURE_CONFIRMED]},
    )
    assert response.status_code == 400
    assert "loopback, private or link-local" in response.context["form"].errors["url"][0]
    assert not WebhookEndpoint.objects.exists()
    assert not Petition.objects.get(pk=petition.pk).sends_events


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://localhost/",
        "https://10.1.2.3/",
        "https://192.168.0.10/",
        "https://172.16.5.4/",
        "https://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "https://100.64.0.1/",  # carrier-grade NAT
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[fd00::1]/",
        "https://[::ffff:127.0.0.1]/",  # IPv4 written as IPv6
        "https://0.0.0.0/",
        "https://224.0.0.1/",
    ],
)
def test_local_destinations_are_refused_outside_debug(url, settings):
    settings.VIGIL_WEBHOOK_ALLOW_LOCAL = False
    with pytest.raises(WebhookRefused) as refused:
        destination_addresses(url)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.215.14/hook", "https://"),
        ("https://user:pw@93.184.215.14/hook", "user name and password"),
        ("ftp://93.184.215.14/", "https://"),
        ("https://no-such-host.invalid/", "does not resolve"),
        ("https://93.184.215.14:99999/", "port"),
    ],
)
def test_other_bad_addresses_are_refused_with_a_reason(url, message, settings):
    settings.VIGIL_WEBHOOK_ALLOW_LOCAL = False
    with pytest.raises(WebhookRefused, match=message):
        destination_addresses(url)


def test_a_public_address_is_accepted(settings):
    settings.VIGIL_WEBHOOK_ALLOW_LOCAL = False
    assert destination_addresses("https://93.184.215.14/hook") == ["93.184.215.14"]


def test_a_petition_has_at_most_the_set_number_of_endpoints(petition, owner, receiver, settings):
    settings.VIGIL_WEBHOOK_ENDPOINTS_PER_PETITION = 2
    _endpoint(petition, owner, receiver)
    _endpoint(petition, owner, receiver)
    with pytest.raises(WebhookRefused, match="can have 2 endpoints"):
        _endpoint(petition, owner, receiver)


def test_e_mail_addresses_need_the_export_permission(petition, receiver):
    from petitions.models import PetitionMembership
    from tests.factories import UserFactory

    plain_owner = UserFactory()
    PetitionMembership.objects.create(petition=petition, user=plain_owner, role=MembershipRole.OWNER)
    with pytest.raises(WebhookRefused, match="export"):
        _endpoint(petition, plain_owner, receiver, can_read_emails=True)


# --- Sending ---------------------------------------------------------------------------------------------------------


def test_the_pump_sends_signed_batches_with_one_key_per_event(petition, owner, receiver):
    endpoint, secret = _endpoint(petition, owner, receiver)
    signatures = [_signed_and_confirmed(petition, f"signer{n}@example.org") for n in range(3)]

    assert webhooks_pump(max_seconds=5) == 3

    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request.headers["Content-Type"] == "application/json"
    assert signature_valid(secret=secret, header=request.headers["Vigil-Signature"], body=request.body)
    events = request.events
    assert [e["type"] for e in events] == [EventKind.SIGNATURE_CONFIRMED] * 3
    assert len({e["idempotency_key"] for e in events}) == 3
    assert [e["osdi:signature"]["identifiers"] for e in events] == [[f"vigil:{s.public_id}"] for s in signatures]
    person = events[0]["osdi:signature"]["person"]
    assert person["given_name"] == "Ann"
    assert "email_addresses" not in person  # no e-mail scope
    assert events[0]["osdi:petition"]["identifiers"] == [f"vigil:{petition.public_id}"]
    assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()
    assert webhooks_pump(max_seconds=5) == 0  # nothing sent twice
    assert len(receiver.received) == 1


def test_a_tampered_body_fails_the_check(petition, owner, receiver):
    _endpoint_, secret = _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    webhooks_pump(max_seconds=5)
    request = receiver.received[0]
    assert not signature_valid(secret=secret, header=request.headers["Vigil-Signature"], body=request.body + b" ")
    assert not signature_valid(secret="whsec_other", header=request.headers["Vigil-Signature"], body=request.body)


def test_e_mail_addresses_go_only_to_an_endpoint_allowed_them(petition, owner, receiver):
    _endpoint(petition, owner, receiver, can_read_emails=True)
    _signed_and_confirmed(petition, "ann@example.org")
    webhooks_pump(max_seconds=5)
    person = receiver.events()[0]["osdi:signature"]["person"]
    assert person["email_addresses"] == [{"address": "ann@example.org", "primary": True}]


def test_a_signature_withdrawn_before_sending_carries_nothing_personal(petition, owner, receiver):
    _endpoint(petition, owner, receiver, can_read_emails=True)
    signature = _signed_and_confirmed(petition, "ann@example.org")
    signature_withdraw(token=signature_withdraw_token(signature=signature))
    webhooks_pump(max_seconds=5)
    confirmed, withdrawn = receiver.events()
    assert (confirmed["type"], withdrawn["type"]) == (EventKind.SIGNATURE_CONFIRMED, EventKind.SIGNATURE_WITHDRAWN)
    for event in (confirmed, withdrawn):
        assert event["osdi:signature"]["person"] is None
        assert event["osdi:signature"]["vigil:state"] == SignatureState.WITHDRAWN
    assert b"ann@example.org" not in receiver.received[0].body and b"Ann" not in receiver.received[0].body


def test_an_endpoint_gets_only_the_kinds_it_asked_for_and_only_from_its_creation(petition, owner, receiver):
    _signed_and_confirmed(petition, "early@example.org")  # before any endpoint: no event at all
    webhook_endpoint_create(petition=petition, by=owner, url=receiver.url, kinds=[EventKind.PETITION_STATE_CHANGED])
    _signed_and_confirmed(petition, "ann@example.org")
    petition_close(petition=petition)
    webhooks_pump(max_seconds=5)
    (event,) = receiver.events()
    assert (event["type"], event["from"], event["to"]) == (EventKind.PETITION_STATE_CHANGED, "open", "closed")
    assert event["osdi:petition"]["title"] == petition.title


def test_batches_hold_at_most_the_set_number_of_events_oldest_first(petition, owner, receiver, settings):
    settings.VIGIL_WEBHOOK_BATCH = 2
    _endpoint(petition, owner, receiver)
    signatures = [_signed_and_confirmed(petition, f"s{n}@example.org") for n in range(5)]
    assert webhooks_pump(max_seconds=5) == 5
    assert [len(request.events) for request in receiver.received] == [2, 2, 1]
    sent = [e["osdi:signature"]["identifiers"][0] for e in receiver.events()]
    assert sent == [f"vigil:{s.public_id}" for s in signatures]


def test_a_failing_endpoint_backs_off_then_is_switched_off_and_its_owners_told(petition, owner, receiver, settings):
    settings.VIGIL_WEBHOOK_DISABLE_AFTER = 3
    receiver.status = 500
    endpoint, _secret = _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")

    assert webhooks_pump(max_seconds=5) == 0
    endpoint.refresh_from_db()
    assert endpoint.failures_in_row == 1 and endpoint.is_active
    assert endpoint.retry_at > timezone.now() + timedelta(seconds=3)
    assert endpoint.last_error == "Answered 500"
    assert webhooks_pump(max_seconds=5) == 0  # waiting: not tried again yet
    assert len(receiver.received) == 1

    for expected in (2, 3):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
        webhooks_pump(max_seconds=5)
        endpoint.refresh_from_db()
        assert endpoint.failures_in_row == expected
    assert not endpoint.is_active
    assert "3 failed attempts" in endpoint.disabled_reason
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status, delivery.delivered_at) == (3, 500, None)

    (told,) = [row for row in outbox_rows() if "Webhook switched off" in row.subject]
    assert told.to == [owner.email] and receiver.url in told.body_text

    # Switched back on, it is sent what it missed.
    receiver.status = 204
    webhook_endpoint_switch(endpoint=endpoint, by=owner, on=True)
    assert webhooks_pump(max_seconds=5) == 1
    endpoint.refresh_from_db()
    assert endpoint.failures_in_row == 0 and endpoint.last_success_at is not None


def test_a_redirect_is_a_failure_and_is_not_followed(petition, owner, receiver):
    receiver.status = 302
    receiver.headers_out = {"Location": "http://127.0.0.1:1/elsewhere"}
    endpoint, _secret = _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    assert webhooks_pump(max_seconds=5) == 0
    endpoint.refresh_from_db()
    assert "redirects are not followed" in endpoint.last_error
    assert len(receiver.received) == 1


def test_a_receiver_that_is_down_is_retried_and_gets_everything_once_back(petition, owner, receiver):
    endpoint, _secret = _endpoint(petition, owner, receiver)
    receiver.stop()
    _signed_and_confirmed(petition, "ann@example.org")
    assert webhooks_pump(max_seconds=5) == 0
    endpoint.refresh_from_db()
    assert "Connection" in endpoint.last_error or "refused" in endpoint.last_error.lower()
    receiver.start()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    assert webhooks_pump(max_seconds=5) == 1
    assert len(receiver.events()) == 1


def test_an_address_that_turns_local_after_registration_is_not_sent_to(petition, owner, receiver, settings):
    """Registered while allowed (as DNS might have answered a public address then), refused at the send."""
    endpoint, _secret = _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    settings.VIGIL_WEBHOOK_ALLOW_LOCAL = False
    assert webhooks_pump(max_seconds=5) == 0
    assert receiver.received == []
    endpoint.refresh_from_db()
    assert endpoint.failures_in_row == 1
    assert "https://" in endpoint.last_error  # the receiver's http:// address is refused first
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        url=receiver.url.replace("http://", "https://"), retry_at=None
    )
    assert webhooks_pump(max_seconds=5) == 0
    assert receiver.received == []
    endpoint.refresh_from_db()
    assert "resolves to 127.0.0.1, an address on a loopback, private or link-local network" in endpoint.last_error


def test_a_delivered_event_can_be_sent_again_with_the_same_key(client, petition, owner, receiver):
    endpoint, _secret = _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    webhooks_pump(max_seconds=5)
    delivery = WebhookDelivery.objects.get()
    client.force_login(owner)
    response = client.post(reverse("api:webhook_resend", args=[petition.slug, endpoint.pk, delivery.pk]))
    assert response.status_code == 302
    webhooks_pump(max_seconds=5)
    first, second = receiver.events()
    assert first["idempotency_key"] == second["idempotency_key"]


def test_the_log_page_lists_deliveries_in_a_bounded_number_of_queries(client, petition, owner, receiver):
    endpoint, _secret = _endpoint(petition, owner, receiver)
    for n in range(4):
        _signed_and_confirmed(petition, f"s{n}@example.org")
    webhooks_pump(max_seconds=5)
    client.force_login(owner)
    client.get(reverse("api:webhook_log", args=[petition.slug, endpoint.pk]))  # the session's first read
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("api:webhook_log", args=[petition.slug, endpoint.pk]))
    assert response.status_code == 200
    for n in range(4):
        _signed_and_confirmed(petition, f"t{n}@example.org")
    webhooks_pump(max_seconds=5)
    with CaptureQueriesContext(connection) as more:
        response = client.get(reverse("api:webhook_log", args=[petition.slug, endpoint.pk]))
    assert len(more) == len(few)
    assert response.content.count(b"Send again") == 8
    assert b"signature.confirmed" in response.content


def test_removing_an_endpoint_stops_the_events(client, petition, owner, receiver):
    endpoint, _secret = _endpoint(petition, owner, receiver)
    client.force_login(owner)
    client.post(reverse("api:webhook_delete", args=[petition.slug, endpoint.pk]))
    assert not WebhookEndpoint.objects.exists()
    assert not Petition.objects.get(pk=petition.pk).sends_events
    _signed_and_confirmed(petition, "ann@example.org")
    assert not Event.objects.exists()


def test_fan_out_twice_adds_nothing(petition, owner, receiver):
    _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    assert webhook_events_fan_out() == 1
    Event.objects.update(fanned_out_at=None)  # as if a run died after writing its deliveries
    assert webhook_events_fan_out() == 1
    assert WebhookDelivery.objects.count() == 1


def test_old_events_and_their_log_are_purged(petition, owner, receiver, settings):
    _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    webhooks_pump(max_seconds=5)
    assert webhook_log_purge(now=timezone.now() + timedelta(days=settings.VIGIL_WEBHOOK_LOG_DAYS - 1)) == 0
    assert webhook_log_purge(now=timezone.now() + timedelta(days=settings.VIGIL_WEBHOOK_LOG_DAYS + 1)) == 1
    assert not WebhookDelivery.objects.exists()


def test_a_body_is_json_an_array_of_events(petition, owner, receiver):
    _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    webhooks_pump(max_seconds=5)
    assert isinstance(json.loads(receiver.received[0].body), list)


def test_the_call_log_is_kept_for_its_days(petition, owner, settings):
    from api.models import ApiCall
    from api.services.tokens import api_calls_purge, api_token_create

    token = api_token_create(petition=petition, by=owner, name="sync").token
    old = timezone.now() - timedelta(days=settings.VIGIL_API_CALL_LOG_DAYS + 1)
    ApiCall.objects.create(token=token, method="GET", path="/api/v1/petitions", status=200, duration_ms=3, at=old)
    ApiCall.objects.create(token=token, method="GET", path="/api/v1/petitions", status=200, duration_ms=3)
    assert api_calls_purge() == 1
    assert ApiCall.objects.count() == 1


def test_endpoints_take_turns_when_a_run_cannot_serve_them_all(petition, owner, settings):
    settings.VIGIL_WEBHOOK_BATCH = 1
    first, second = Receiver().start(), Receiver().start()
    try:
        webhook_endpoint_create(petition=petition, by=owner, url=first.url, kinds=ALL_KINDS)
        webhook_endpoint_create(petition=petition, by=owner, url=second.url, kinds=ALL_KINDS)
        for n in range(3):
            _signed_and_confirmed(petition, f"s{n}@example.org")
        webhooks_pump(max_seconds=0.001)  # time for about one request
        webhooks_pump(max_seconds=0.001)
        assert (len(first.received), len(second.received)) == (1, 1)
    finally:
        first.stop()
        second.stop()


def test_the_pages_answer_only_the_petitions_owners_and_only_for_its_endpoints(client, petition, owner, receiver):
    endpoint, _secret = _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    webhooks_pump(max_seconds=5)
    delivery = WebhookDelivery.objects.get()
    pages = [
        ("get", reverse("api:webhooks", args=[petition.slug])),
        ("get", reverse("api:webhook_log", args=[petition.slug, endpoint.pk])),
        ("post", reverse("api:webhook_switch", args=[petition.slug, endpoint.pk])),
        ("post", reverse("api:webhook_delete", args=[petition.slug, endpoint.pk])),
        ("post", reverse("api:webhook_resend", args=[petition.slug, endpoint.pk, delivery.pk])),
    ]
    for method, path in pages:  # anonymous: to the sign-in page
        response = getattr(client, method)(path)
        assert response.status_code == 302 and "login" in response["Location"], path

    other = OpenPetitionFactory()
    other_owner = organiser_of(other)
    client.force_login(other_owner)
    for method, path in pages:  # an owner of another petition, under this petition's address
        assert getattr(client, method)(path).status_code in (403, 404), path
    for method, path in pages[1:]:  # this endpoint, under the address of a petition they do own
        assert getattr(client, method)(path.replace(petition.slug, other.slug)).status_code == 404, path
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).exists()
    assert WebhookDelivery.objects.get().delivered_at is not None


def test_an_endpoint_held_by_a_pump_that_died_is_taken_again_when_its_lease_ends(petition, owner, receiver):
    endpoint, _secret = _endpoint(petition, owner, receiver)
    _signed_and_confirmed(petition, "ann@example.org")
    webhook_events_fan_out()
    # A pump claimed the endpoint and was killed before it sent (or before it recorded what it sent).
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(claimed_until=timezone.now() + timedelta(seconds=60))
    assert webhooks_pump(max_seconds=5) == 0
    assert receiver.received == []
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert webhooks_pump(max_seconds=5) == 1
    assert len(receiver.events()) == 1


def test_a_published_update_is_sent_with_its_text_and_address(petition, owner, receiver):
    from petitions.services.updates import petition_update_create, petition_update_publish

    _endpoint(petition, owner, receiver)
    update = petition_update_create(petition=petition, by=owner, title="They answered", body="<p>Yes.</p>")
    petition_update_publish(update=update)
    webhooks_pump(max_seconds=5)
    (event,) = receiver.events()
    assert event["type"] == EventKind.PETITION_UPDATE_PUBLISHED
    assert event["vigil:update"]["title"] == "They answered"
    assert event["vigil:update"]["browser_url"].endswith(f"/petitions/{petition.slug}/updates/1/")
