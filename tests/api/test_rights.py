"""Who gets what from every operation that needs a token: a session (of any kind) is not a token; a token reaches
its own petition only; a revoked one nothing; a read-only one cannot write; e-mail addresses need their scope."""

import json

import pytest

from api.services.tokens import api_token_create, api_token_revoke
from petitions.models import MembershipRole
from signatures.models import Signature
from tests.deliverables.factories import organiser_of
from tests.factories import VerifiedUserFactory
from tests.petitions.factories import ConfirmedSignatureFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db

BODY = {"person": {"given_name": "Ada", "family_name": "L", "email_addresses": [{"address": "ada@example.org"}],
                   "postal_addresses": [{"country": "GB"}]}}  # fmt: skip


@pytest.fixture
def world(db):
    petition = OpenPetitionFactory()
    signature = ConfirmedSignatureFactory(petition=petition, email="signer@example.org")
    owner = organiser_of(petition)
    other = OpenPetitionFactory()
    revoked = api_token_create(petition=petition, by=owner, name="old", can_write=True)
    api_token_revoke(token=revoked.token, by=owner)
    return {
        "petition": petition,
        "signature": signature,
        "tokens": {
            "read": api_token_create(petition=petition, by=owner, name="r").secret,
            "write": api_token_create(petition=petition, by=owner, name="w", can_write=True).secret,
            "other petition": api_token_create(petition=other, by=organiser_of(other), name="o", can_write=True).secret,
            "revoked": revoked.secret,
        },
        "sessions": {
            "reader": VerifiedUserFactory(),
            "viewer of this petition": organiser_of(petition, role=MembershipRole.VIEWER),
            "organiser of another petition": organiser_of(other, role=MembershipRole.ORGANISER),
            "owner of this petition": owner,
        },
    }


def _operations(world) -> list[tuple[str, str]]:
    base = f"/api/v1/petitions/{world['petition'].public_id}"
    return [("GET", "/api/v1/petitions"), ("GET", base), ("GET", f"{base}/signatures"),
            ("GET", f"{base}/signatures/{world['signature'].public_id}"), ("POST", f"{base}/signatures"),
            ("POST", f"{base}/record_signature_helper")]  # fmt: skip


def _call(client, method: str, path: str, token: str | None = None):
    headers = {"HTTP_OSDI_API_TOKEN": token} if token else {}
    if method == "POST":
        return client.post(path, data=json.dumps(BODY), content_type="application/json", **headers)
    return client.get(path, **headers)


# (caller, GET answer, POST answer); the petitions collection answers 200 to any live token (listing its own).
EXPECTED = [
    ("anonymous", 401, 401),
    ("revoked", 401, 401),
    ("other petition", 404, 404),
    ("read", 200, 403),
    ("write", 200, 200),
]


@pytest.mark.parametrize(("caller", "get_status", "post_status"), EXPECTED)
def test_every_operation_for_every_token(client, world, caller, get_status, post_status):
    token = world["tokens"].get(caller)
    for method, path in _operations(world):
        expected = post_status if method == "POST" else get_status
        if path == "/api/v1/petitions" and caller == "other petition":
            expected = 200  # its own petition, not this one
        answer = _call(client, method, path, token)
        assert answer.status_code == expected, (caller, method, path, answer.content[:200])
        if expected >= 400:
            assert answer.json()["error"]
    assert Signature.objects.filter(email="ada@example.org").exists() == (post_status == 200)


@pytest.mark.parametrize("who", ["reader", "viewer of this petition", "organiser of another petition",
                                 "owner of this petition"])  # fmt: skip
def test_a_session_of_any_kind_is_not_a_token(client, world, who):
    client.force_login(world["sessions"][who])
    for method, path in _operations(world):
        assert _call(client, method, path).status_code == 401, (who, method, path)
    assert not Signature.objects.filter(email="ada@example.org").exists()


@pytest.mark.parametrize("caller", ["read", "write"])
def test_a_token_without_the_e_mail_scope_never_sees_an_address(client, world, caller):
    base = f"/api/v1/petitions/{world['petition'].public_id}/signatures"
    for path in (base, f"{base}/{world['signature'].public_id}", f"{base}?filter=created_date gt '2020-01-01'"):
        answer = _call(client, "GET", path, world["tokens"][caller])
        assert answer.status_code == 200 and "signer@example.org" not in answer.content.decode()
