from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from accounts.roles import roles_sync_permissions

        # Permissions exist only after every app has migrated; the roles migration made the groups.
        post_migrate.connect(roles_sync_permissions, dispatch_uid="accounts.roles_sync_permissions")
