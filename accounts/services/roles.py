"""Granting and revoking the site-wide roles (editor, moderator, organiser) that accounts/roles.py defines."""

from django.contrib.auth.models import Group
from django.db import transaction

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
