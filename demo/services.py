"""The demo: what `make run` loads so that a newcomer sees a living site. Idempotent by natural keys."""

from collections.abc import Callable

from django.db import transaction

from demo.story import demo_story_ensure
from demo.users import DEMO_PASSWORD, DEMO_USERS, demo_users_ensure


def demo_seed(*, extra_signatures: int = 0, log: Callable[[str], None] = lambda line: None) -> list[str]:
    with transaction.atomic():
        demo_users_ensure()
        article = demo_story_ensure()
    report = [f"Demo story: /news/{article.slug}/", f"Demo log-ins (password for all: {DEMO_PASSWORD}):"]
    for spec in DEMO_USERS:
        report.append(f"  {spec.role or 'Reader':<11} {spec.email}")
    report.append("Staff log-ins ask for a two-factor code: `make demo-code` prints the current one.")
    return report
