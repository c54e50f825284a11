from django.contrib.auth.models import Group
from django.db import transaction
from django.dispatch import Signal

from accounts.models import User
from accounts.roles import ADMIN_ROLES, ROLES


class RoleError(ValueError):
    pass


@transaction.atomic
def role_grant(*, user: User, role: str) -> None:
    """Put a user in a staff role; roles that work in the admin also make the account staff."""
    if role not in ROLES:
        raise RoleError(f"There is no role called {role!r}; the roles are {', '.join(ROLES)}.")
    user.groups.add(Group.objects.get(name=role))
    if role in ADMIN_ROLES and not user.is_staff:
        User.objects.filter(pk=user.pk).update(is_staff=True)
        user.is_staff = True
    user.__dict__.pop("_vigil_roles", None)


@transaction.atomic
def role_revoke(*, user: User, role: str) -> None:
    if role not in ROLES:
        raise RoleError(f"There is no role called {role!r}; the roles are {', '.join(ROLES)}.")
    user.groups.remove(Group.objects.get(name=role))
    remaining = set(user.groups.filter(name__in=ADMIN_ROLES).values_list("name", flat=True))
    if role in ADMIN_ROLES and not remaining and not user.is_superuser:
        User.objects.filter(pk=user.pk).update(is_staff=False)
        user.is_staff = False
    user.__dict__.pop("_vigil_roles", None)


class AccountDeletionRefused(ValueError):
    """A part of the site cannot let this account go yet; the message says what to do first."""


# Sent inside the deletion's transaction, before the account row goes: each app erases or detaches what the
# account wrote, or raises AccountDeletionRefused (a petition whose only owner it is). accounts sits below the apps,
# so they come to it, not it to them.
account_deleting = Signal()


def account_delete(*, user: User) -> None:
    """Delete an account at its owner's request: the apps erase what it wrote (comments keep a "[deleted]" place in
    their threads), the mail written to its addresses is scrubbed, then the account, its e-mail addresses, second
    factors and sessions go."""
    from allauth.account.models import EmailAddress

    from core.services import outbound_email_scrub_to

    with transaction.atomic():
        account_deleting.send(sender=User, user=user)
        addresses = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
        outbound_email_scrub_to(addresses=addresses)
        user.delete()
