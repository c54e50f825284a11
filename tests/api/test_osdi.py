"""The API at /api/v1/ as Action Network's clients use it: the entry point, a token's petition, its confirmed
signatures page by page, the record signature helper, and every way a call can be refused."""

import json
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from api.models import ApiCall
from api.services.tokens import api_calls_drain, api_token_create, api_token_revoke
from signatures.models import Signature, SignatureState
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import (
    ClosedPetitionFactory,
    ConfirmedSignatureFactory,
    OpenPetitionFactory,
    PendingSignatureFactory,
)
from tests.signatures.helpers import link_in, outbox_rows

pytestmark = pytest.mark.django_db

HAL = "application/hal+json"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def _token(petition, owner, **scopes) -> str:
    return api_token_create(petition=petition, by=owner, name="sync", **scopes).secret


def _get(client, path: str, token: str | None = None, **headers):
    if token:
        headers["HTTP_OSDI_API_TOKEN"] = token
    return client.get(path, **headers)


def _post(client, path: str, body, token: str | None = None):
    headers = {"HTTP_OSDI_API_TOKEN": token} if token else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **headers)


def _person(email="ada@example.org", **extra) -> dict:
    return {"person": {"given_name": "Ada", "family_name": "Lovelace", "email_addresses": [{"address": email}],
                       "postal_addresses": [{"locality": "London", "postal_code": "N1 9GU", "country": "GB"}]},
            **extra}  # fmt: skip


# --- The entry point and the shape of things ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1"])
def test_the_entry_point_lists_the_collections_without_a_token(client, path):
    answer = client.get(path)
    assert answer.status_code == 200 and answer["Content-Type"].startswith(HAL)
    body = answer.json()
    assert body["motd"] and body["max_page_size"] == 25
    assert body["_links"]["osdi:petitions"]["href"] == "http://testserver/api/v1/petitions"


def test_a_tokens_petition_is_its_one_petition_in_the_collection(client, petition, owner):
    token = _token(petition, owner)
    OpenPetitionFactory()  # another petition: not this token's
    ConfirmedSignatureFactory.create_batch(3, petition=petition)
    from signatures.services.counts import signature_counts_flush

    signature_counts_flush()
    body = _get(client, "/api/v1/petitions", token).json()
    assert list(body["_embedded"]) == ["osdi:petitions"]  # the first key is the list, as clients read it
    assert (body["page"], body["per_page"], body["total_records"], body["total_pages"]) == (1, 25, 1, 1)
    [item] = body["_embedded"]["osdi:petitions"]
    assert item["identifiers"] == [f"vigil:{petition.public_id}"]
    assert item["title"] == petition.title and item["total_signatures"] == 3
    assert item["target"] == [{"name": petition.target_name}] or item["target"][0]["name"] == petition.target_name
    assert item["_links"]["osdi:signatures"]["href"].endswith(f"/api/v1/petitions/{petition.public_id}/signatures")
    assert item["_links"]["self"]["href"] == f"http://testserver/api/v1/petitions/{petition.public_id}"
    one = _get(client, f"/api/v1/petitions/{petition.public_id}", token).json()
    assert one["identifiers"] == item["identifiers"]


# --- Rights ---------------------------------------------------------------------------------------------------------


def _paths(petition, signature) -> list[str]:
    base = f"/api/v1/petitions/{petition.public_id}"
    return ["/api/v1/petitions", base, f"{base}/signatures", f"{base}/signatures/{signature.public_id}"]


def test_no_token_an_unknown_one_or_a_revoked_one_gets_401(client, petition, owner):
    signature = ConfirmedSignatureFactory(petition=petition)
    made = api_token_create(petition=petition, by=owner, name="old")
    api_token_revoke(token=made.token, by=owner)
    for token in (None, "vgl_not-a-token", made.secret, "x" * 5000):
        for path in _paths(petition, signature):
            answer = _get(client, path, token)
            assert answer.status_code == 401, (token, path)
            assert "OSDI-API-Token" in answer.json()["error"]


def test_a_token_of_another_petition_finds_nothing_here(client, petition, owner):
    signature = ConfirmedSignatureFactory(petition=petition)
    other = OpenPetitionFactory()
    token = _token(other, organiser_of(other), can_write=True)
    for path in _paths(petition, signature)[1:]:
        assert _get(client, path, token).status_code == 404, path
    assert _post(client, f"/api/v1/petitions/{petition.public_id}/signatures", _person(), token).status_code == 404


def test_a_session_is_not_a_token(client, petition, owner):
    client.force_login(owner)
    assert client.get(f"/api/v1/petitions/{petition.public_id}").status_code == 401


def test_a_read_only_token_cannot_record_signatures(client, petition, owner):
    token = _token(petition, owner)
    answer = _post(client, f"/api/v1/petitions/{petition.public_id}/signatures", _person(), token)
    assert answer.status_code == 403 and "only read" in answer.json()["error"]
    assert not Signature.objects.exists()


def test_e_mail_addresses_only_with_the_e_mail_scope(client, petition, owner, django_user_model):
    from django.contrib.auth.models import Permission

    ConfirmedSignatureFactory(petition=petition, email="ada@example.org")
    path = f"/api/v1/petitions/{petition.public_id}/signatures"
    [plain] = _get(client, path, _token(petition, owner)).json()["_embedded"]["osdi:signatures"]
    assert "email_addresses" not in plain["person"] and "ada@example.org" not in json.dumps(plain)
    owner.user_permissions.add(Permission.objects.get(codename="export_signer_emails"))
    owner = django_user_model.objects.get(pk=owner.pk)  # permissions are cached per instance
    [full] = _get(client, path, _token(petition, owner, can_read_emails=True)).json()["_embedded"]["osdi:signatures"]
    assert full["person"]["email_addresses"] == [{"address": "ada@example.org", "primary": True}]


# --- Signatures, page by page ---------------------------------------------------------------------------------------


def _walk(client, path: str, token: str, per_page: int = 25) -> list[dict]:
    """As parsons pages: page 1, 2, ... until a page comes back empty."""
    found, page = [], 1
    while True:
        body = _get(client, f"{path}?page={page}&per_page={per_page}", token).json()
        items = body["_embedded"][list(body["_embedded"])[0]]
        if not items:
            return found
        found += items
        page += 1


def test_paging_through_every_confirmed_signature_once(client, petition, owner):
    confirmed = ConfirmedSignatureFactory.create_batch(60, petition=petition)
    PendingSignatureFactory.create_batch(3, petition=petition)
    ConfirmedSignatureFactory(petition=petition, state=SignatureState.WITHDRAWN, withdrawn_at=timezone.now())
    token = _token(petition, owner)
    path = f"/api/v1/petitions/{petition.public_id}/signatures"
    walked = _walk(client, path, token)
    assert [item["identifiers"][0] for item in walked] == [f"vigil:{s.public_id}" for s in confirmed]
    first = _get(client, f"{path}?per_page=25", token).json()
    assert first["_links"]["next"]["href"] == f"http://testserver{path}?page=2&per_page=25"
    assert "previous" not in first["_links"]
    third = _get(client, f"{path}?page=3", token).json()
    assert len(third["_embedded"]["osdi:signatures"]) == 10 and "next" not in third["_links"]
    assert third["_links"]["previous"]["href"].endswith("page=2&per_page=25")


def test_following_next_links_walks_the_same_rows(client, petition, owner):
    ConfirmedSignatureFactory.create_batch(30, petition=petition)
    token = _token(petition, owner)
    url, seen = f"/api/v1/petitions/{petition.public_id}/signatures?per_page=7", []
    while url:
        body = _get(client, url.removeprefix("http://testserver"), token).json()
        seen += body["_embedded"]["osdi:signatures"]
        url = body["_links"].get("next", {}).get("href")
    assert len({item["identifiers"][0] for item in seen}) == len(seen) == 30


def test_a_row_withdrawn_mid_walk_does_not_shift_the_next_page(client, petition, owner):
    rows = ConfirmedSignatureFactory.create_batch(50, petition=petition)
    token = _token(petition, owner)
    path = f"/api/v1/petitions/{petition.public_id}/signatures"
    first = _get(client, f"{path}?page=1", token).json()["_embedded"]["osdi:signatures"]
    Signature.objects.filter(pk=rows[0].pk).update(state=SignatureState.WITHDRAWN, withdrawn_at=timezone.now())
    second = _get(client, f"{path}?page=2", token).json()["_embedded"]["osdi:signatures"]
    assert [item["identifiers"][0] for item in first + second] == [f"vigil:{s.public_id}" for s in rows]


@pytest.mark.parametrize(
    ("query", "status", "per_page", "count"),
    [
        ("per_page=1000000", 200, 25, 25),
        ("per_page=3", 200, 3, 3),
        ("per_page=abc&page=x", 200, 25, 25),  # mangled numbers: the defaults, as some clients send them
        ("page=1000000000", 200, 25, 0),
        ("page=0", 400, None, None),
        ("page=-2", 400, None, None),
        ("per_page=0", 400, None, None),
    ],
)
def test_page_numbers_and_sizes(client, petition, owner, query, status, per_page, count):
    ConfirmedSignatureFactory.create_batch(30, petition=petition)
    answer = _get(client, f"/api/v1/petitions/{petition.public_id}/signatures?{query}", _token(petition, owner))
    assert answer.status_code == status
    if status == 200:
        body = answer.json()
        assert body["per_page"] == per_page and len(body["_embedded"]["osdi:signatures"]) == count
    else:
        assert answer.json()["error"]


def test_filters_on_dates(client, petition, owner):
    old = ConfirmedSignatureFactory(petition=petition, created_at=datetime(2026, 1, 5, tzinfo=UTC),
                                    confirmed_at=datetime(2026, 1, 5, tzinfo=UTC))  # fmt: skip
    new = ConfirmedSignatureFactory(petition=petition)
    token = _token(petition, owner)
    path = f"/api/v1/petitions/{petition.public_id}/signatures"

    def ids(text: str) -> list[str]:
        answer = client.get(path, {"filter": text}, HTTP_OSDI_API_TOKEN=token)
        assert answer.status_code == 200, answer.content
        return [item["identifiers"][0] for item in answer.json()["_embedded"]["osdi:signatures"]]

    assert ids("modified_date gt '2026-06-01'") == [f"vigil:{new.public_id}"]
    assert ids("created_date lt '2026-02-01T00:00:00Z'") == [f"vigil:{old.public_id}"]
    assert ids("created_date gt '2025-12-31' and created_date lt '2026-02-01'") == [f"vigil:{old.public_id}"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("modified_date after '2026-01-01'", "Cannot read"),
        ("email eq 'a@b.c'", "cannot be filtered"),
        ("modified_date gt 'yesterday'", "not a date"),
        ("x" * 600, "at most"),
    ],
)
def test_filters_that_cannot_be_read_are_refused_plainly(client, petition, owner, text, says):
    answer = client.get(f"/api/v1/petitions/{petition.public_id}/signatures", {"filter": text},
                        HTTP_OSDI_API_TOKEN=_token(petition, owner))  # fmt: skip
    assert answer.status_code == 400 and says in answer.json()["error"]


def test_withdrawn_and_anonymised_signatures_carry_no_personal_fields(client, petition, owner):
    withdrawn = ConfirmedSignatureFactory(petition=petition, state=SignatureState.WITHDRAWN,
                                          withdrawn_at=timezone.now(), first_name="", last_name="")  # fmt: skip
    anonymised = ConfirmedSignatureFactory(petition=petition, first_name="", last_name="", canonical_email="",
                                           email="", anonymised_at=timezone.now())  # fmt: skip
    token = _token(petition, owner, can_write=True)
    base = f"/api/v1/petitions/{petition.public_id}/signatures"
    for row, state in ((withdrawn, "withdrawn"), (anonymised, "confirmed")):
        body = _get(client, f"{base}/{row.public_id}", token).json()
        assert body["vigil:state"] == state and "person" not in body and "referrer_data" not in body
    pending = PendingSignatureFactory(petition=petition)
    assert _get(client, f"{base}/{pending.public_id}", token).status_code == 404  # not yet a signature
    assert _get(client, f"{base}/not-a-uuid", token).status_code == 404


def test_a_page_answers_304_to_its_own_etag(client, petition, owner):
    ConfirmedSignatureFactory(petition=petition)
    token = _token(petition, owner)
    path = f"/api/v1/petitions/{petition.public_id}/signatures"
    first = _get(client, path, token)
    again = _get(client, path, token, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    ConfirmedSignatureFactory(petition=petition)
    assert _get(client, path, token, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


# --- The record signature helper ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/signatures", "/signatures/", "/record_signature_helper"])
def test_recording_a_signature_goes_through_the_sign_form_s_service(client, petition, owner, path):
    token = _token(petition, owner, can_write=True)
    referrer = {"source": "newsletter", "website": "https://crm.example/join"}
    body = _person(add_tags=["volunteer"], triggers={"autoresponse": {"enabled": True}},
                   **{"action_network:referrer_data": referrer})  # fmt: skip
    answer = _post(client, f"/api/v1/petitions/{petition.public_id}{path}", body, token)
    assert answer.status_code == 200, answer.content  # answered in place: no redirect, even with the slash
    assert answer.json()["vigil:state"] == "pending"
    signature = Signature.objects.get()
    assert (signature.state, signature.first_name, signature.town, signature.postal_code, signature.country) == (
        SignatureState.PENDING, "Ada", "London", "N1 9GU", "GB")  # fmt: skip
    assert (signature.utm_source, signature.referrer_host, signature.ip_hash) == ("newsletter", "crm.example", "")
    [mail] = outbox_rows(to="ada@example.org")  # double opt-in, as from the form
    confirm_path = link_in(mail.body_text, "confirm")
    assert client.get(confirm_path).status_code == 200 and Signature.objects.get().state == SignatureState.PENDING
    client.post(confirm_path)  # the signer presses the button
    assert Signature.objects.get().state == SignatureState.CONFIRMED


def test_the_same_person_twice_is_one_signature_and_the_same_answer(client, petition, owner):
    token = _token(petition, owner, can_write=True)
    path = f"/api/v1/petitions/{petition.public_id}/signatures"
    answers = [_post(client, path, _person(email=email), token) for email in ("Ada@Example.org", "ada@example.org")]
    assert [a.status_code for a in answers] == [200, 200] and answers[0].json() == answers[1].json()
    assert Signature.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (_person(email="not-an-address"), "person.email_addresses"),
        ({"person": {"given_name": "Ada", "family_name": "L", "email_addresses": [{"address": "a@example.org"}],
                     "postal_addresses": [{"country": "Narnia"}]}}, "person.postal_addresses.country"),
        ({"person": {"given_name": "", "family_name": "", "email_addresses": [{"address": "a@example.org"}],
                     "postal_addresses": [{"country": "GB"}]}}, "person.given_name"),
        ({"person": {"email_addresses": []}}, "person.email_addresses"),
        ({"person": {"given_name": 5, "email_addresses": [{"address": "a@example.org"}]}}, "person.given_name"),
        ({**_person(), "favourite_colour": "green"}, "favourite_colour"),
        ({"person": {**_person()["person"], "ssn": "123"}}, "person.ssn"),
        ({"person": "Ada"}, "person"),
        ([], "body"),
    ],
)  # fmt: skip
def test_bad_signatures_are_refused_field_by_field_and_nothing_is_written(client, petition, owner, body, where):
    token = _token(petition, owner, can_write=True)
    answer = _post(client, f"/api/v1/petitions/{petition.public_id}/signatures", body, token)
    assert answer.status_code == 400, answer.content
    assert where in answer.json()["errors"], answer.json()
    assert not Signature.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", '{"person": ', "null", '"text"'])
def test_malformed_json_is_a_400(client, petition, owner, raw):
    answer = _post(client, f"/api/v1/petitions/{petition.public_id}/signatures", raw,
                   _token(petition, owner, can_write=True))  # fmt: skip
    assert answer.status_code == 400 and answer.json()["error"]
    assert not Signature.objects.exists()


def test_a_huge_body_is_refused_before_it_is_read(client, petition, owner, settings):
    settings.VIGIL_API_MAX_BODY_BYTES = 10_000
    body = _person(comments="x" * 20_000)
    answer = _post(client, f"/api/v1/petitions/{petition.public_id}/signatures", body,
                   _token(petition, owner, can_write=True))  # fmt: skip
    assert answer.status_code == 413 and "10,000" in answer.json()["error"]


def test_a_closed_petition_takes_no_signature(client, owner):
    closed = ClosedPetitionFactory()
    token = _token(closed, organiser_of(closed), can_write=True)
    answer = _post(client, f"/api/v1/petitions/{closed.public_id}/signatures", _person(), token)
    assert answer.status_code == 409 and answer.json()["error"]
    assert not Signature.objects.exists()


def test_each_token_has_its_own_signing_limit(client, petition, owner, settings):
    settings.VIGIL_API_SIGN_RATE_PER_TOKEN = "2/m"
    token, other = _token(petition, owner, can_write=True), _token(petition, owner, can_write=True)
    path = f"/api/v1/petitions/{petition.public_id}/signatures"
    statuses = [_post(client, path, _person(email=f"p{i}@example.org"), token).status_code for i in range(3)]
    assert statuses == [200, 200, 429]
    refused = _post(client, path, _person(email="p9@example.org"), token)
    assert refused["Retry-After"] == "60" and refused.json()["error"]
    assert _post(client, path, _person(email="q@example.org"), other).status_code == 200
    assert Signature.objects.count() == 3


def test_every_call_is_limited_per_token(client, petition, owner, settings):
    settings.VIGIL_API_RATE_PER_TOKEN = "3/m"
    token = _token(petition, owner)
    statuses = [_get(client, "/api/v1/petitions", token).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_every_call_is_logged_without_what_was_sent(client, petition, owner):
    made = api_token_create(petition=petition, by=owner, name="sync", can_write=True)
    _get(client, "/api/v1/petitions?filter=modified_date gt '2026-01-01'", made.secret)
    _post(client, f"/api/v1/petitions/{petition.public_id}/signatures", _person(), made.secret)
    _get(client, "/api/v1/petitions", "vgl_wrong")
    assert not ApiCall.objects.exists()  # in Redis until the drain
    assert api_calls_drain() == 3
    assert api_calls_drain() == 0
    calls = list(ApiCall.objects.order_by("pk").values_list("token_id", "method", "path", "status"))
    assert calls == [
        (made.token.pk, "GET", "/api/v1/petitions", 200),
        (made.token.pk, "POST", f"/api/v1/petitions/{petition.public_id}/signatures", 200),
        (None, "GET", "/api/v1/petitions", 401),
    ]
    made.token.refresh_from_db()
    assert made.token.last_used_at is not None


def test_the_documentation_is_made_from_the_schema_and_names_every_operation(client):
    schema = client.get("/api/v1/schema/").json()
    assert schema["openapi"].startswith("3.")
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    for path, item in schema["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in html
    entry = client.get("/api/v1/").json()
    for curie in entry["_links"]["curies"]:
        for rel in (
            "petitions",
            "signatures",
            "record_signature_helper",
            "petition",
            "articles",
            "letters",
            "signatories",
            "petition_page",
        ):
            assert f'id="{rel}"' in html and curie["href"].replace("{rel}", rel).endswith(f"/api/v1/docs/#{rel}")
    assert "<script" not in html.split("<main", 1)[-1].split("</main>", 1)[0]


def test_a_page_reached_by_its_number_alone_has_the_rows_of_that_position(client, petition, owner):
    rows = ConfirmedSignatureFactory.create_batch(60, petition=petition)
    PendingSignatureFactory.create_batch(5, petition=petition)  # not in the collection, not counted in positions
    token = _token(petition, owner)
    path = f"/api/v1/petitions/{petition.public_id}/signatures"
    for page, per_page in ((3, 25), (2, 7), (60, 1)):
        body = _get(client, f"{path}?page={page}&per_page={per_page}", token).json()
        expected = rows[(page - 1) * per_page : page * per_page]
        assert [item["identifiers"][0] for item in body["_embedded"]["osdi:signatures"]] == [
            f"vigil:{s.public_id}" for s in expected
        ], (page, per_page)
    assert _get(client, f"{path}?page=61&per_page=1", token).json()["_embedded"]["osdi:signatures"] == []


def test_recording_counts_against_the_signing_limit_not_the_call_limit(client, petition, owner, settings):
    settings.VIGIL_API_RATE_PER_TOKEN = "1/m"
    settings.VIGIL_API_SIGN_RATE_PER_TOKEN = "3/m"
    token = _token(petition, owner, can_write=True)
    path = f"/api/v1/petitions/{petition.public_id}/signatures"
    statuses = [_post(client, path, _person(email=f"r{i}@example.org"), token).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert [_get(client, "/api/v1/petitions", token).status_code for _ in range(2)] == [200, 429]


def test_without_redis_a_call_is_logged_in_the_table_at_once(client, petition, owner, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    made = api_token_create(petition=petition, by=owner, name="sync")
    _get(client, "/api/v1/petitions", made.secret)
    assert list(ApiCall.objects.values_list("token_id", "method", "status")) == [(made.token.pk, "GET", 200)]
    assert api_calls_drain() == 0


def test_a_drained_call_of_a_token_deleted_since_keeps_its_line_without_the_token(client, petition, owner):
    made = api_token_create(petition=petition, by=owner, name="sync")
    _get(client, "/api/v1/petitions", made.secret)
    made.token.delete()
    assert api_calls_drain() == 1
    assert list(ApiCall.objects.values_list("token_id", "path")) == [(None, "/api/v1/petitions")]
