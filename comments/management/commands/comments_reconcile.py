from django.core.management.base import BaseCommand

from comments.services.counts import comment_counts_reconcile


class Command(BaseCommand):
    help = "Rebuild comment counts, thread reply counts, open-flag counts and the moderators' queue sizes."

    def handle(self, *args, **options):
        fixed = comment_counts_reconcile()
        self.stdout.write(", ".join(f"{name}: {count} corrected" for name, count in fixed.items()))
