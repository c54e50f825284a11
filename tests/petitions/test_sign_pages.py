"""The signing flow through the pages: form, honeypot, CSRF, limits, confirm by button, withdraw."""

import logging

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from signatures.models import Signature, SignatureState
from signatures.services.counts import signature_counts_flush
from tests.petitions.factories import (
    ClosedPetitionFactory,
    ConfirmedSignatureFactory,
    DraftPetitionFactory,
    OpenPetitionFactory,
)
from tests.signatures.helpers import confirm_via_pages, form_data, link_in, outbox_rows

pytestmark = pytest.mark.django_db


def _sign(client, petition, **overrides):
    return client.post(reverse("petitions:sign", args=[petition.slug]), form_data(**overrides))


def test_a_signer_signs_confirms_sees_the_count_rise_and_withdraws(client, petition):
    page = client.get(petition.get_absolute_url() + "?utm_source=newsletter", HTTP_REFERER="https://social.example/p/1")
    assert page.status_code == 200
    html = page.content.decode()
    assert petition.ask in html and 'name="utm_source" value="newsletter"' in html
    assert "https://social.example/p/1" in html  # carried in a hidden field

    response = _sign(client, petition)
    assert response.status_code == 303 and response["Location"] == reverse("petitions:thanks", args=[petition.slug])
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()
    signature = Signature.objects.get()
    assert (signature.utm_source, signature.referrer_host) == ("newsletter", "news.example.net")

    [row] = outbox_rows()
    path = link_in(row.body_text, "confirm")
    confirm_page = client.get(path)  # a mail scanner opening the link confirms nothing
    assert confirm_page.status_code == 200 and b"Yes, confirm my signature" in confirm_page.content
    assert Signature.objects.get().state == SignatureState.PENDING
    assert client.post(path).status_code == 200
    assert Signature.objects.get().state == SignatureState.CONFIRMED

    signature_counts_flush()
    cache.clear()  # the page's statistics are cached for a few seconds
    page = client.get(petition.get_absolute_url()).content.decode()
    assert "<strong>1</strong> signature" in page and "Ann S., Glasgow" in page
    assert "ann@example.org" not in page

    withdraw = link_in(row.body_text, "withdraw")
    assert client.get(withdraw).status_code == 200
    assert b"withdrawn" in client.post(withdraw).content
    signature_counts_flush()
    cache.clear()
    page = client.get(petition.get_absolute_url()).content.decode()
    assert "<strong>0</strong> signatures" in page and "Ann S." not in page


def test_the_confirm_link_never_confirms_on_get(client, petition):
    _sign(client, petition)
    path = link_in(outbox_rows()[0].body_text, "confirm")
    for _ in range(3):
        client.get(path)
        client.head(path)
    assert Signature.objects.get().state == SignatureState.PENDING


@pytest.mark.parametrize(
    ("token", "status"),
    [("garbage", 400), ("1.1:1tWxyz:tampered-signature-value", 400)],
)
def test_bad_confirm_links_get_a_friendly_page(client, token, status):
    response = client.get(reverse("petitions:signature_confirm", args=[token]))
    assert response.status_code == status and b"This link does not work" in response.content


def test_honeypot_answers_like_everyone_else_and_records_nothing(client, petition):
    response = _sign(client, petition, website="http://spam.example")
    assert response.status_code == 303
    assert not Signature.objects.exists() and not outbox_rows()


def test_missing_csrf_token_is_refused(petition):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("petitions:sign", args=[petition.slug]), form_data())
    assert response.status_code == 403
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "no-at-sign.example.org"}, "exactly one @"),
        ({"email": "ann smith@example.org"}, "spaces"),
        ({"email": "a" * 300 + "@example.org"}, "at most"),
        ({"email": "ann@gmаil.com"}, "different alphabets"),
        ({"first_name": "<img src=x onerror=alert(1)>"}, "cannot contain"),
        ({"country": "ZZ"}, "Choose a country from the list"),
        ({"last_name": ""}, "This field is required"),
    ],
)
def test_bad_input_comes_back_with_the_form_filled_in(client, petition, overrides, message):
    response = _sign(client, petition, **overrides)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'value="Glasgow"' in html
    assert 'aria-describedby="' in html
    assert not Signature.objects.exists()


def test_postal_code_required_when_the_petition_says_so(client, petition):
    petition.postal_code_required = True
    petition.save()
    response = _sign(client, petition, postal_code="")
    assert response.status_code == 400 and not Signature.objects.exists()


@pytest.mark.parametrize("factory", [DraftPetitionFactory, ClosedPetitionFactory])
def test_signing_a_draft_or_closed_petition(client, factory):
    petition = factory()
    response = client.post(f"/petitions/{petition.slug}/sign/", form_data())
    assert response.status_code == (404 if factory is DraftPetitionFactory else 409)
    assert not Signature.objects.exists()


@override_settings(VIGIL_SIGN_RATE_PER_EMAIL="2/h")
def test_over_the_email_limit_the_form_comes_back_filled_with_429(client, petition):
    for _ in range(2):
        assert _sign(client, petition).status_code == 303
    response = _sign(client, petition)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Wait a little" in html and 'value="ann@example.org"' in html and 'value="Glasgow"' in html
    assert _sign(client, petition, email="bob@example.org").status_code == 303  # others are not affected


LOCAL_MEMORY = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sign-limits"}}


@pytest.mark.parametrize("caches", ["redis", "local memory"])
@override_settings(VIGIL_SIGN_RATE_PER_EMAIL="2/h")
def test_the_email_limit_counts_per_petition(client, petition, caches):
    """Posts with someone's address on one petition never lock that address out of another."""
    other = OpenPetitionFactory()
    with override_settings(**({"CACHES": LOCAL_MEMORY} if caches == "local memory" else {})):
        for _ in range(2):
            assert _sign(client, petition, email="ann@example.org").status_code == 303
        assert _sign(client, petition, email="ann@example.org").status_code == 429
        assert _sign(client, other, email="ANN@example.org").status_code == 303
        assert Signature.objects.filter(petition=other, canonical_email="ann@example.org").exists()
        assert _sign(client, petition, email="ann@example.org").status_code == 429  # still limited where it was


@override_settings(VIGIL_SIGN_RATE_PER_IP="3/h")
def test_over_the_address_limit_the_form_comes_back_with_429(client, petition):
    for i in range(3):
        assert _sign(client, petition, email=f"p{i}@example.org").status_code == 303
    assert _sign(client, petition, email="p9@example.org").status_code == 429
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert _sign(other, petition, email="p10@example.org").status_code == 303


def test_signing_works_when_redis_is_down_and_the_outage_is_logged(client, petition, caplog):
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=dead), caplog.at_level(logging.WARNING):
        assert client.get(petition.get_absolute_url()).status_code == 200
        response = _sign(client, petition)
    assert response.status_code == 303
    assert Signature.objects.filter(canonical_email="ann@example.org").exists()
    assert len(outbox_rows()) == 1
    assert "Rate limit signatures:sign:ip not applied" in caplog.text
    assert "Rate limit signatures:sign:email not applied" in caplog.text


def test_resend_page_always_says_check_your_email(client, petition):
    response = client.post(reverse("petitions:resend", args=[petition.slug]), {"email": "nobody@example.org"})
    assert response.status_code == 303
    response = client.post(reverse("petitions:resend", args=[petition.slug]), {"email": "not an address"})
    assert response.status_code == 400


def test_asking_for_new_links_on_one_petition_does_not_stop_them_on_another(settings, petition):
    """The per-address limit of the "send the link again" form counts per petition: posts with someone's address
    on one petition cannot stop that person's links elsewhere."""
    from tests.signatures.helpers import sign

    settings.VIGIL_SIGN_RESEND_RATE = "1/h"
    settings.VIGIL_SIGNATURE_RESEND_INTERVAL = 0  # a new link at every request the limit lets through
    other = OpenPetitionFactory()
    for target in (petition, other):
        sign(target, "Resend.Me@example.org")
    before = len(outbox_rows(to="Resend.Me@example.org"))
    for n in range(2):  # the second is over the limit on this petition (each from its own address)
        Client().post(reverse("petitions:resend", args=[petition.slug]), {"email": "resend.me@example.org"},
                      REMOTE_ADDR=f"198.51.100.{n + 1}")  # fmt: skip
    Client().post(reverse("petitions:resend", args=[other.slug]), {"email": "resend.me@example.org"},
                  REMOTE_ADDR="198.51.100.9")  # fmt: skip
    sent = outbox_rows(to="Resend.Me@example.org")[before:]
    assert len(sent) == 2  # one for each petition


def test_public_page_query_count_is_constant(client, petition, django_assert_max_num_queries):
    for i in range(3):
        ConfirmedSignatureFactory(petition=petition, email=f"x{i}@example.org")
    signature_counts_flush()
    with django_assert_max_num_queries(10) as few:  # 9, and one for the latest updates
        client.get(petition.get_absolute_url())
    for i in range(30):
        ConfirmedSignatureFactory(petition=petition, email=f"y{i}@example.org", country="FR", region=f"R{i}")
    signature_counts_flush()
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(petition.get_absolute_url())
    with django_assert_max_num_queries(1):  # cached: a surge of refreshes costs only base.html's navigation query
        client.get(petition.get_absolute_url())


def test_confirming_twice_through_pages_counts_once(client, petition):
    _sign(client, petition)
    row = outbox_rows()[0]
    confirm_via_pages(client, row)
    response = client.post(link_in(row.body_text, "confirm"))
    assert b"already confirmed" in response.content
    signature_counts_flush()
    assert petition.tally.confirmed == 1
