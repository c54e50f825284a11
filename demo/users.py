"""The demo accounts that `make run` prints: one for each kind of person who uses the site."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

from accounts.models import User
from accounts.roles import EDITORS, MODERATORS, ORGANISERS
from accounts.services.roles import role_grant

DEMO_PASSWORD = "vigil-demo-password"
# Every demo staff account shares this authenticator secret, so `manage.py demo_code` can print a working code.
# Demo data only: real staff set up their own authenticator app on first sign-in.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPVIGILDEMOAAAAAAA"


@dataclass(frozen=True)
class DemoUser:
    email: str
    display_name: str
    role: str | None


DEMO_USERS = [
    DemoUser("reader@demo.vigil.example", "Sam Reader", None),
    DemoUser("organiser@demo.vigil.example", "Olu Organiser", ORGANISERS),
    DemoUser("moderator@demo.vigil.example", "Mina Moderator", MODERATORS),
    DemoUser("editor@demo.vigil.example", "Eddie Editor", EDITORS),
]


def demo_user_ensure(spec: DemoUser) -> User:
    user = User.objects.filter(email=spec.email).first()
    if user is None:
        user = User(
            username=spec.email.split("@")[0],
            email=spec.email,
            display_name=spec.display_name,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
    EmailAddress.objects.get_or_create(user=user, email=spec.email, defaults={"verified": True, "primary": True})
    if spec.role:
        role_grant(user=user, role=spec.role)
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
    return user


def demo_users_ensure() -> dict[str, User]:
    return {spec.email: demo_user_ensure(spec) for spec in DEMO_USERS}


def demo_totp_code(at: float | None = None) -> str:
    import time

    from allauth.mfa import app_settings

    counter = int(at if at is not None else time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter))
