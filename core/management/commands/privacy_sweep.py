"""Apply every privacy rule of the registry at once (operators catching up after downtime; tests)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.privacy import privacy_sweep


class Command(BaseCommand):
    help = "Apply every rule of the personal-data registry now (or as of --now), and say what each removed."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="apply the rules as of this ISO-8601 time (with its offset), not now")

    def handle(self, *args, now=None, **options):
        when = timezone.now()
        if now:
            when = parse_datetime(now)
            if when is None or timezone.is_naive(when):
                raise CommandError(f"--now takes an ISO-8601 time with its offset, such as 2027-01-31T12:00:00+00:00; "
                                   f"not {now!r}.")  # fmt: skip
        for name, result in privacy_sweep(now=when).items():
            self.stdout.write(f"{name}: {result}")
