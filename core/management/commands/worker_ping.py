import secrets
import time

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError

from core.tasks import ping_task


class Command(BaseCommand):
    help = "Queue a task and wait for a Celery worker to run it: proves the broker and a worker are alive."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=20.0, help="Seconds to wait (default 20).")

    def handle(self, *args, timeout: float, **options):
        token = secrets.token_hex(8)
        started = time.monotonic()
        ping_task.delay(token)
        while time.monotonic() - started < timeout:
            if cache.get(f"core:ping:{token}"):
                self.stdout.write(f"A worker answered in {time.monotonic() - started:.2f} s.")
                return
            time.sleep(0.1)
        raise CommandError(f"No worker answered within {timeout:g} s. Is `celery -A config worker` running?")
