"""An Action Network client written by others, pointed at Vigil with nothing changed but its base URL: parsons
(the progressive movement's connector library), version 6.1.0, its ActionNetwork connector. It lists the token's
petitions, pages through every signature as it pages through Action Network's (page by page until an empty one),
records a signature with its own API connector, and starts and edits petitions with its own `create_petition` and
`update_petition`. parsons' `create_signature` is not used: it sends its payload as query parameters with an empty
body, which Action Network's record signature helper does not read either."""

import pytest
from parsons.action_network import action_network as connector

from api.services.tokens import api_token_create
from petitions.models import MembershipRole, Petition, PetitionRevision, PetitionStatus
from signatures.models import Signature, SignatureState
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import ConfirmedSignatureFactory, OpenPetitionFactory


@pytest.fixture
def petition(transactional_db):
    return OpenPetitionFactory()


@pytest.fixture
def action_network(live_server, monkeypatch, petition):
    monkeypatch.setattr(connector, "API_URL", f"{live_server.url}/api/v1")  # the base URL, and nothing else
    token = api_token_create(petition=petition, by=organiser_of(petition), name="parsons", can_write=True).secret
    return connector.ActionNetwork(api_token=token)


def test_parsons_lists_pages_and_records_against_vigil(action_network, petition):
    signatures = ConfirmedSignatureFactory.create_batch(57, petition=petition)

    petitions = action_network.get_petitions()
    assert petitions.num_rows == 1 and petitions[0]["title"] == petition.title

    one = action_network.get_petition(str(petition.public_id))
    assert one["identifiers"] == [f"vigil:{petition.public_id}"]

    walked = action_network.get_petition_signatures(str(petition.public_id))  # pages 1, 2, 3 and the empty 4th
    assert [row["identifiers"][0] for row in walked] == [f"vigil:{s.public_id}" for s in signatures]
    assert walked[0]["person"]["given_name"] == "Ann" and "email_addresses" not in walked[0]["person"]

    recorded = action_network.api.post_request(
        url=f"petitions/{petition.public_id}/signatures",
        json={"person": {"given_name": "Grace", "family_name": "Hopper",
                         "email_addresses": [{"address": "grace@example.org"}],
                         "postal_addresses": [{"postal_code": "10001", "country": "US"}]}},
    )  # fmt: skip
    assert recorded["vigil:state"] == "pending"
    signature = Signature.objects.get(email="grace@example.org")
    assert signature.state == SignatureState.PENDING  # it counts once Grace confirms by e-mail


def test_parsons_starts_and_edits_petitions_on_vigil(action_network, petition):
    ConfirmedSignatureFactory(petition=petition)
    target = [{"name": "The Mayor"}]
    created = action_network.create_petition(
        "Light the bridge", "<p>It is dark.</p><script>x()</script>", "Put lights on the bridge.", target
    )
    new = Petition.objects.get(public_id=created["identifiers"][0].removeprefix("vigil:"))
    assert (new.title, new.ask, new.target_name, new.status) == (
        "Light the bridge", "Put lights on the bridge.", "The Mayor", PetitionStatus.DRAFT)  # fmt: skip
    assert new.body == "<p>It is dark.</p>" and new.slug == "light-the-bridge"
    assert new.memberships.get().role == MembershipRole.OWNER

    earlier = petition.ask
    updated = action_network.update_petition(
        str(petition.public_id), "Stop it now", petition.body, "Stop it for good.", [{"name": "The Minister"}]
    )
    assert updated["title"] == "Stop it now" and updated["target"] == [{"name": "The Minister"}]
    petition.refresh_from_db()
    assert (petition.title, petition.ask, petition.target_name) == ("Stop it now", "Stop it for good.", "The Minister")
    assert PetitionRevision.objects.get(petition=petition).ask == earlier  # people had signed the earlier text
