"""Every deliverables URL belongs to the petition in it: an organiser of another petition, a moderator and a reader
get 403 or 404, and so do members with too low a role where the page needs more."""

import pytest
from django.urls import reverse

from accounts.roles import MODERATORS
from deliverables.models import PacketExport
from deliverables.services.letters import letter_compile_request, letter_compile_run
from deliverables.services.packets import packet_export_request, packet_export_run
from petitions.models import MembershipRole
from tests.deliverables.factories import OpenLetterFactory, ShareholderSignOnFactory, SignOnFactory, organiser_of
from tests.factories import VerifiedUserFactory, staff_user
from tests.petitions.factories import ConfirmedSignatureFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(petition):
    owner = organiser_of(petition)
    ConfirmedSignatureFactory(petition=petition)
    export = packet_export_run(
        export_id=packet_export_request(petition=petition, kind="csv", include_emails=False, by=owner, role="owner").pk
    )
    letter = OpenLetterFactory(petition=petition)
    signon = SignOnFactory(letter=letter)
    compiled = letter_compile_run(compile_id=letter_compile_request(letter=letter, by=owner, queue=False).pk)
    shares = OpenLetterFactory(petition=petition, kind="shareholder")
    holder = ShareholderSignOnFactory(letter=shares, proof_file="proofs/x.pdf", proof_mimetype="application/pdf")
    slug = petition.slug
    gets = [
        reverse("deliverables:organise_packets", args=[slug]),
        reverse("deliverables:organise_packet_progress", args=[slug, export.pk]),
        reverse("deliverables:organise_packet_download", args=[slug, export.pk]),
        reverse("deliverables:organise_letters", args=[slug]),
        reverse("deliverables:organise_letter", args=[slug, letter.slug]),
        reverse("deliverables:organise_signon_proof", args=[slug, shares.slug, holder.pk]),
        reverse("deliverables:organise_compile_progress", args=[slug, compiled.pk]),
        reverse("deliverables:organise_compile_download", args=[slug, compiled.pk]),
        reverse("deliverables:organise_delivery", args=[slug]),
    ]
    posts = [
        (reverse("deliverables:organise_packets", args=[slug]), {"kind": "csv"}),
        (reverse("deliverables:organise_letter_compile", args=[slug, letter.slug]), {}),
        (reverse("deliverables:organise_signon_review", args=[slug, letter.slug, signon.pk]), {"decision": "reject"}),
        (reverse("deliverables:organise_letter", args=[slug, letter.slug]), {"action": "close"}),
        (reverse("deliverables:organise_delivery", args=[slug]), {"method": "by_hand", "note": "x"}),
    ]
    return {"gets": gets, "posts": posts, "export": export, "compiled": compiled, "signon": signon}


@pytest.mark.parametrize("who", ["other organiser", "moderator", "reader", "viewer"])
def test_nobody_but_the_petitions_organisers_reaches_its_deliverables(client, petition, world, who):
    user = {
        "other organiser": lambda: organiser_of(OpenPetitionFactory()),
        "moderator": lambda: staff_user(MODERATORS),
        "reader": lambda: VerifiedUserFactory(),
        "viewer": lambda: organiser_of(petition, MembershipRole.VIEWER),
    }[who]()
    client.force_login(user)
    for url in world["gets"]:
        assert client.get(url).status_code in (403, 404), url
    exports = PacketExport.objects.count()
    for url, data in world["posts"]:
        assert client.post(url, data).status_code in (403, 404), url
    assert PacketExport.objects.count() == exports
    world["signon"].refresh_from_db()
    assert world["signon"].state == "verified"


def test_an_organiser_of_another_petition_cannot_reach_objects_through_their_own_petition(client, world):
    other = OpenPetitionFactory()
    client.force_login(organiser_of(other))
    for name, pk in [
        ("organise_packet_download", world["export"].pk),
        ("organise_packet_progress", world["export"].pk),
        ("organise_compile_download", world["compiled"].pk),
    ]:
        assert client.get(reverse(f"deliverables:{name}", args=[other.slug, pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for url in world["gets"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_owners_deliver(client, petition, world):
    client.force_login(organiser_of(petition, MembershipRole.ORGANISER))
    url = reverse("deliverables:organise_delivery", args=[petition.slug])
    assert client.get(url).status_code == 200
    assert client.post(url, {"method": "by_hand", "note": "x"}).status_code == 403
