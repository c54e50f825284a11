from django.core.management.base import BaseCommand

from demo.services import demo_seed


class Command(BaseCommand):
    help = "Load the demo content (users, roles and the face-recognition story). Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--signatures",
            type=int,
            default=0,
            help="Also add this many confirmed signatures to the demo petition, in bulk (for benchmarks).",
        )

    def handle(self, *args, signatures: int, **options):
        report = demo_seed(extra_signatures=signatures, log=self.stdout.write)
        for line in report:
            self.stdout.write(line)
