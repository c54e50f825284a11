"""E-mail is the login; it must be verified before a reader takes part."""

import re

import pytest
from allauth.account.models import EmailAddress

from accounts.models import User
from core.models import OutboundEmail
from tests.factories import UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"


def _signup(client, email="new.reader@example.org", name="New Reader"):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "display_name": name},
    )


def test_signup_asks_for_a_display_name_and_sends_a_verification_mail(client):
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new.reader@example.org")
    assert user.display_name == "New Reader"
    assert not EmailAddress.objects.get(user=user).verified
    message = OutboundEmail.objects.get(to=["new.reader@example.org"])
    assert "/accounts/confirm-email/" in message.body_text


def test_following_the_mailed_link_and_confirming_verifies_the_address(client):
    _signup(client)
    body = OutboundEmail.objects.get(to=["new.reader@example.org"]).body_text
    link = re.search(r"https?://testserver(/accounts/confirm-email/[^\s]+)", body).group(1)
    page = client.get(link)
    assert page.status_code == 200  # a page with a button: mail scanners opening the link confirm nothing
    assert not EmailAddress.objects.get(email="new.reader@example.org").verified
    client.post(link)
    assert EmailAddress.objects.get(email="new.reader@example.org").verified


def test_signup_without_display_name_is_refused_with_a_message(client):
    response = _signup(client, name="   ")
    assert response.status_code == 200
    assert 'id="id_display_name_error"' in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not User.objects.filter(email="new.reader@example.org").exists()


def test_unverified_account_cannot_sign_in(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"login": user.email, "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session


def test_unverified_account_cannot_reach_a_page_that_needs_verification(client):
    client.force_login(UserFactory())
    response = client.get("/account/")
    assert response.status_code == 200
    assert "verify" in response.content.decode().lower()
    assert 'name="display_name"' not in response.content.decode()


def test_verified_reader_reaches_their_account_page(client):
    reader = VerifiedUserFactory(display_name="Old Name")
    client.force_login(reader)
    assert 'name="display_name"' in client.get("/account/").content.decode()
    response = client.post("/account/", {"display_name": "  New   Name "}, follow=True)
    reader.refresh_from_db()
    assert reader.display_name == "New Name"
    assert "Your display name is saved." in response.content.decode()


def test_verified_reader_signs_in_with_email_and_password(client):
    reader = VerifiedUserFactory()
    response = client.post("/accounts/login/", {"login": reader.email, "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(reader.pk)


def test_password_reset_mails_a_link(client):
    reader = VerifiedUserFactory()
    client.post("/accounts/password/reset/", {"email": reader.email})
    assert "/accounts/password/reset/key/" in OutboundEmail.objects.get(to=[reader.email]).body_text


def test_public_pages_never_show_the_email(client):
    reader = VerifiedUserFactory(display_name="Visible Name")
    client.force_login(reader)
    html = client.get("/").content.decode()
    assert "Visible Name" in html and reader.email not in html
