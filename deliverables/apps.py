from django.apps import AppConfig


class DeliverablesConfig(AppConfig):
    name = "deliverables"
    verbose_name = "Deliverables"

    def ready(self) -> None:
        from core import pagecache
        from deliverables.models import Letter, LetterVersion, SignOn

        # Letters, their versions and their verified co-signers are on public pages.
        pagecache.watch_models(Letter, LetterVersion, SignOn)

        from deliverables.services.privacy import signons_erase_for, signons_held_for
        from signatures.services.data_requests import personal_data_collect, personal_data_erase

        # A person's "Your data" copy and erasure cover their sign-ons too.
        personal_data_collect.connect(signons_held_for, dispatch_uid="deliverables.signons_held_for")
        personal_data_erase.connect(signons_erase_for, dispatch_uid="deliverables.signons_erase_for")
