from django.apps import AppConfig


class SignaturesConfig(AppConfig):
    name = "signatures"

    def ready(self) -> None:
        from core import pagecache
        from signatures.models import SignOn

        pagecache.watch_models(SignOn)  # verified co-signers are listed on the public letter pages
