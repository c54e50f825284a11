import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from accounts.models import User
from accounts.services import role_grant


class UserFactory(factory.django.DjangoModelFactory):
    """An account whose e-mail address is not verified yet."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Faker("first_name")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def email_address(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=False)


class VerifiedUserFactory(UserFactory):
    """A reader whose e-mail address is verified."""

    @factory.post_generation
    def email_address(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


def totp_enable(user: User) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def staff_user(role: str, *, mfa: bool = True) -> User:
    """A verified account in a staff role, with an authenticator app unless mfa=False."""
    user = VerifiedUserFactory()
    role_grant(user=user, role=role)
    if mfa:
        totp_enable(user)
    return user


__all__ = ["Authenticator", "UserFactory", "VerifiedUserFactory", "staff_user", "totp_enable"]
