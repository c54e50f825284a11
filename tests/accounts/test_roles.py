"""Roles are groups made by a migration; each role reaches its tools and nothing more; staff must use MFA."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import EDITORS, MODERATORS, ORGANISERS, ROLES
from accounts.services.roles import RoleError, role_grant, role_revoke
from tests.factories import VerifiedUserFactory, staff_user

pytestmark = pytest.mark.django_db


def test_the_roles_exist_after_migrate():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


def test_editors_are_made_staff_and_lose_it_with_the_role():
    user = VerifiedUserFactory()
    role_grant(user=user, role=EDITORS)
    user.refresh_from_db()
    assert user.is_staff
    role_revoke(user=user, role=EDITORS)
    user.refresh_from_db()
    assert not user.is_staff


def test_unknown_role_is_refused_with_the_list():
    with pytest.raises(RoleError, match="Editors, Organisers, Moderators"):
        role_grant(user=VerifiedUserFactory(), role="Admins")


def test_anonymous_visitor_is_sent_to_the_site_login_for_the_admin(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_reader_cannot_reach_the_admin(client):
    client.force_login(VerifiedUserFactory())
    assert client.get("/admin/", follow=True).status_code == 403


@pytest.mark.parametrize("role", [MODERATORS, ORGANISERS])
def test_roles_outside_the_admin_cannot_reach_it(client, role):
    client.force_login(staff_user(role))
    assert client.get("/admin/", follow=True).status_code == 403


def test_editor_with_mfa_reaches_the_admin(client):
    client.force_login(staff_user(EDITORS))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"administration" in response.content


@pytest.mark.parametrize("role", [EDITORS, MODERATORS, ORGANISERS])
def test_staff_without_mfa_are_sent_to_set_it_up(client, role):
    client.force_login(staff_user(role, mfa=False))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    page = client.get(response["Location"], follow=True)
    assert "Set up an authenticator app to continue." in page.content.decode()


def test_readers_are_not_asked_for_mfa(client):
    client.force_login(VerifiedUserFactory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "2fa" not in response["Location"]


def test_role_permissions_follow_the_map_after_migrate(django_db_blocker):
    from accounts.roles import ROLE_PERMISSIONS

    for role, wanted in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert have == set(wanted), role
