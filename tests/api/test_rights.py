"""Who gets what from every operation that needs a token: a session (of any kind) is not a token; a token reaches
its own petition only; a revoked one nothing; a read-only one cannot write; e-mail addresses need their scope.
Starting a petition belongs to no petition: any live token that may write starts one, in its maker's name."""

import json

import pytest

from api.services.tokens import api_token_create, api_token_revoke
from petitions.models import MembershipRole, Petition
from signatures.models import Signature
from tests.deliverables.factories import organiser_of
from tests.factories import VerifiedUserFactory
from tests.petitions.factories import ConfirmedSignatureFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db

BODY = {"person": {"given_name": "Ada", "family_name": "L", "email_addresses": [{"address": "ada@example.org"}],
                   "postal_addresses": [{"country": "GB"}]}}  # fmt: skip
PETITION = {"title": "Written through the API"}


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


def _operations(world) -> list[tuple[str, str, str]]:
    """(what it does, method, path)"""
    base = f"/api/v1/petitions/{world['petition'].public_id}"
    return [("read", "GET", "/api/v1/petitions"), ("read", "GET", base), ("read", "GET", f"{base}/signatures"),
            ("read", "GET", f"{base}/signatures/{world['signature'].public_id}"),
            ("record", "POST", f"{base}/signatures"), ("record", "POST", f"{base}/record_signature_helper"),
            ("create", "POST", "/api/v1/petitions"), ("edit", "PUT", base)]  # fmt: skip


def _call(client, kind: str, method: str, path: str, token: str | None = None):
    headers = {"HTTP_OSDI_API_TOKEN": token} if token else {}
    if method == "GET":
        return client.get(path, **headers)
    body = BODY if kind == "record" else PETITION
    call = client.put if method == "PUT" else client.post
    return call(path, data=json.dumps(body), content_type="application/json", **headers)


# What each caller gets from each kind of operation; the petitions collection answers 200 to any live token (listing
# its own), and starting a petition is not this petition's business.
EXPECTED = {
    "anonymous": {"read": 401, "record": 401, "create": 401, "edit": 401},
    "revoked": {"read": 401, "record": 401, "create": 401, "edit": 401},
    "other petition": {"read": 404, "record": 404, "create": 201, "edit": 404},
    "read": {"read": 200, "record": 403, "create": 403, "edit": 403},
    "write": {"read": 200, "record": 200, "create": 201, "edit": 200},
}


@pytest.mark.parametrize("caller", list(EXPECTED))
def test_every_operation_for_every_token(client, world, caller):
    token = world["tokens"].get(caller)
    expected_of = EXPECTED[caller]
    for kind, method, path in _operations(world):
        expected = expected_of[kind]
        if path == "/api/v1/petitions" and method == "GET" and caller == "other petition":
            expected = 200  # its own petition, not this one
        answer = _call(client, kind, method, path, token)
        assert answer.status_code == expected, (caller, method, path, answer.content[:200])
        if expected >= 400:
            assert answer.json()["error"]
    assert Signature.objects.filter(email="ada@example.org").exists() == (expected_of["record"] == 200)
    written = Petition.objects.filter(title=PETITION["title"])
    assert written.count() == (expected_of["create"] == 201) + (expected_of["edit"] == 200)
    assert written.filter(pk=world["petition"].pk).exists() == (expected_of["edit"] == 200)


@pytest.mark.parametrize("who", ["reader", "viewer of this petition", "organiser of another petition",
                                 "owner of this petition"])  # fmt: skip
def test_a_session_of_any_kind_is_not_a_token(client, world, who):
    client.force_login(world["sessions"][who])
    for kind, method, path in _operations(world):
        assert _call(client, kind, method, path).status_code == 401, (who, method, path)
    assert not Signature.objects.filter(email="ada@example.org").exists()
    assert not Petition.objects.filter(title=PETITION["title"]).exists()


@pytest.mark.parametrize("caller", ["read", "write"])
def test_a_token_without_the_e_mail_scope_never_sees_an_address(client, world, caller):
    base = f"/api/v1/petitions/{world['petition'].public_id}/signatures"
    for path in (base, f"{base}/{world['signature'].public_id}", f"{base}?filter=created_date gt '2020-01-01'"):
        answer = _call(client, "read", "GET", path, world["tokens"][caller])
        assert answer.status_code == 200 and "signer@example.org" not in answer.content.decode()
