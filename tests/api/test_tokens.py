"""The owners' page for API tokens: a token is shown once and kept only as a digest; only owners make or revoke
one; the e-mail scope only from someone who may export e-mail addresses."""

import hashlib

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from api.models import ApiToken
from api.services.tokens import EMAILS_PERMISSION, TokenRefused, api_token_create, api_token_for
from petitions.models import MembershipRole
from tests.deliverables.factories import organiser_of
from tests.factories import VerifiedUserFactory
from tests.petitions.factories import MembershipFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db


def test_an_owner_makes_a_token_that_is_shown_once_and_stored_as_a_digest(client, petition):
    owner = organiser_of(petition)
    client.force_login(owner)
    page = reverse("api:tokens", args=[petition.slug])
    answer = client.post(page, {"name": "Action Network sync", "can_write": "on"})
    assert answer.status_code == 200
    secret = answer.context["made"].secret
    assert secret.encode() in answer.content
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest() and secret not in (token.prefix, token.name)
    assert (token.can_write, token.can_read_emails, token.created_by) == (True, False, owner)
    assert secret.encode() not in client.get(page).content  # never again
    assert api_token_for(secret) == token


@pytest.mark.parametrize("role", [MembershipRole.ORGANISER, MembershipRole.VIEWER])
def test_members_below_owner_cannot_see_or_make_tokens(client, petition, role):
    client.force_login(organiser_of(petition, role=role))
    page = reverse("api:tokens", args=[petition.slug])
    assert client.get(page).status_code == 403
    assert client.post(page, {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_someone_outside_the_petition_finds_no_page(client, petition):
    other = OpenPetitionFactory()
    client.force_login(organiser_of(other))
    assert client.get(reverse("api:tokens", args=[petition.slug])).status_code == 404


def test_revoking_a_token_stops_it_at_once(client, petition):
    owner = organiser_of(petition)
    made = api_token_create(petition=petition, by=owner, name="old")
    client.force_login(owner)
    answer = client.post(reverse("api:token_revoke", args=[petition.slug, made.token.pk]))
    assert answer.status_code == 302
    assert api_token_for(made.secret) is None
    assert client.get(f"/api/v1/petitions/{petition.public_id}", HTTP_OSDI_API_TOKEN=made.secret).status_code == 401
    other = OpenPetitionFactory()
    stranger = api_token_create(petition=other, by=organiser_of(other), name="theirs")
    answer = client.post(reverse("api:token_revoke", args=[petition.slug, stranger.token.pk]))
    assert answer.status_code == 404 and api_token_for(stranger.secret) is not None


def test_the_e_mail_scope_needs_the_right_to_export_e_mail_addresses(client, petition, django_user_model):
    owner = VerifiedUserFactory()  # an owner of this petition without the site-wide right
    MembershipFactory(petition=petition, user=owner, role=MembershipRole.OWNER)
    assert not owner.has_perm(EMAILS_PERMISSION)
    with pytest.raises(TokenRefused):
        api_token_create(petition=petition, by=owner, name="x", can_read_emails=True)
    client.force_login(owner)
    answer = client.post(reverse("api:tokens", args=[petition.slug]), {"name": "x", "can_read_emails": "on"})
    assert answer.status_code == 400 and not ApiToken.objects.exists()
    owner.user_permissions.add(Permission.objects.get(codename="export_signer_emails"))
    owner = django_user_model.objects.get(pk=owner.pk)
    assert api_token_create(petition=petition, by=owner, name="x", can_read_emails=True).token.can_read_emails
