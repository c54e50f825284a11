from django.core.management.base import BaseCommand, CommandError

from demo.services import DemoRefused, demo_seed


class Command(BaseCommand):
    help = (
        "Load the demo content (users, roles and the face-recognition story). Running it again changes nothing. "
        "Refused unless DEBUG is on."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--signatures",
            type=int,
            default=0,
            help="Also add this many confirmed signatures to the demo petition, in bulk (for benchmarks).",
        )

    def handle(self, *args, signatures: int, **options):
        try:
            report = demo_seed(extra_signatures=signatures, log=self.stdout.write)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        for line in report:
            self.stdout.write(line)
