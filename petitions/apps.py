from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "petitions"

    def ready(self) -> None:
        from core import pagecache
        from petitions import selectors
        from petitions.models import Petition, PetitionRevision, PetitionUpdate

        # Saves from the admin and the services alike; writes made with update() call petition_public_changed.
        pagecache.watch_models(Petition, forget=lambda petition: selectors.petition_public_forget(petition=petition))
        pagecache.watch_models(PetitionRevision)
        pagecache.watch_models(
            PetitionUpdate, forget=lambda update: selectors.petition_public_forget(petition=update.petition)
        )

        from accounts.services.deletion import account_deleting
        from petitions.services.memberships import memberships_release_for_account

        account_deleting.connect(memberships_release_for_account, dispatch_uid="petitions.release_for_account")
