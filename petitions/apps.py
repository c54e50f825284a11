from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "petitions"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from core import pagecache
        from petitions import selectors
        from petitions.models import Letter, LetterVersion, Petition, PetitionRevision

        # Saves from the admin and the services alike; writes made with update() call the same functions.
        def petition_saved(sender, instance, raw=False, **kwargs):
            if not raw:
                selectors.petition_public_changed(petition=instance)

        post_save.connect(petition_saved, sender=Petition, dispatch_uid="pagecache:petition:save")
        post_delete.connect(petition_saved, sender=Petition, dispatch_uid="pagecache:petition:delete")
        pagecache.watch_models(PetitionRevision, Letter, LetterVersion)
