"""The demo: what `make run` loads so that a newcomer sees a living site. Idempotent by natural keys."""

from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from deliverables.demo import demo_deliverables_ensure
from demo.campaign import demo_campaign_ensure, demo_signatures_add
from demo.discussion import demo_discussion_ensure
from demo.story import demo_story_ensure
from demo.users import DEMO_PASSWORD, DEMO_USERS, demo_users_ensure


class DemoRefused(RuntimeError):
    """The demo is not loaded here; the message says why."""


def demo_seed(*, extra_signatures: int = 0, log: Callable[[str], None] = lambda line: None) -> list[str]:
    """Load the demo. Only with DEBUG on: its accounts, staff among them, share a published password and second-factor
    secret, so on a production site they would be anyone's way in."""
    if not settings.DEBUG:
        raise DemoRefused(
            "The demo is only loaded with DEBUG on (DJANGO_DEBUG=1): its accounts, staff among them, use a published "
            "password and second-factor secret. Nothing was created."
        )
    with transaction.atomic():
        users = demo_users_ensure()
        article = demo_story_ensure()
        petition = demo_campaign_ensure(article=article, organiser=users["organiser@demo.vigil.example"])
        demo_deliverables_ensure(petition=petition, organiser=users["organiser@demo.vigil.example"])
        demo_discussion_ensure(article=article, readers=[users["reader@demo.vigil.example"]])
    if extra_signatures:
        added = demo_signatures_add(petition=petition, count=extra_signatures)
        log(f"Added {added} confirmed signatures to the demo petition.")
    report = [
        f"Demo story: /news/{article.slug}/",
        f"Demo petition: {petition.get_absolute_url()}",
        f"Demo log-ins (password for all: {DEMO_PASSWORD}):",
    ]
    for spec in DEMO_USERS:
        report.append(f"  {spec.role or 'Reader':<11} {spec.email}")
    report.append("Staff log-ins ask for a two-factor code: `make demo-code` prints the current one.")
    return report
