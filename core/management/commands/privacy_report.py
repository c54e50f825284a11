"""How much personal data the site holds, per class of the registry, and the oldest record of each."""

from django.core.management.base import BaseCommand

from core.privacy import privacy_report


class Command(BaseCommand):
    help = "Per class of personal data: how many records hold it now, the oldest one, and the rule that removes it."

    def handle(self, *args, **options):
        for item, count, oldest in privacy_report():
            held = "not countable" if count is None else f"{count} record(s)"
            since = f", oldest {oldest:%Y-%m-%d %H:%M} UTC" if oldest else ""
            self.stdout.write(f"{item.name}: {held}{since}. Rule: {item.rule}.")
