"""Staff roles are Django groups. This map says what each may do; it grows as each part of the site lands.

The roles migration creates the groups; after every `migrate`, roles_sync_permissions() gives each group exactly the
permissions listed here (those whose models exist), so the map in code is the truth.
"""

from django.contrib.auth.models import Group, Permission

EDITORS = "Editors"
ORGANISERS = "Organisers"
MODERATORS = "Moderators"
ROLES = (EDITORS, ORGANISERS, MODERATORS)

# "app_label.codename"
ROLE_PERMISSIONS: dict[str, list[str]] = {
    EDITORS: [
        *(
            f"articles.{action}_{model}"
            for model in ("article", "articleimage", "section", "author")
            for action in ("add", "change", "delete", "view")
        ),
        "articles.preview_article",
    ],
    # Organisers start petitions at /organise/; what they may do on each petition is its membership's role.
    ORGANISERS: ["petitions.add_petition", "deliverables.export_signer_emails"],
    MODERATORS: [
        "comments.moderate_comment",
        "comments.view_comment",
        "comments.view_commentflag",
        "comments.view_moderationaction",
        *(f"comments.{action}_watchedpattern" for action in ("add", "change", "delete", "view")),
        *(f"comments.{action}_suspension" for action in ("add", "change", "view")),
    ],
}

# Roles whose members work in the Django admin, and so are made staff when they join.
ADMIN_ROLES = {EDITORS}


def roles_sync_permissions(sender=None, **kwargs) -> None:
    for role, wanted in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for dotted in wanted:
            app_label, codename = dotted.split(".", 1)
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                permissions.append(permission)
        group.permissions.set(permissions)


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    if not hasattr(user, "_vigil_roles"):
        user._vigil_roles = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    return user._vigil_roles


def user_is_staff_role(user) -> bool:
    """Anyone whose account reaches tools beyond a reader's: these must use a second factor."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or user.is_staff or bool(user_roles(user))
    )
