from django.core.management.base import BaseCommand

from demo.users import demo_totp_code


class Command(BaseCommand):
    help = "Print the current two-factor code shared by the demo staff accounts."

    def handle(self, *args, **options):
        self.stdout.write(demo_totp_code())
