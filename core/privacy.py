"""The data lifecycle as one mechanism: a registry of every class of personal data the site holds, each with the rule
that removes or anonymises it, and the two things an operator does with it: apply every rule now (privacy_sweep)
and prove the schedule works (privacy_report). The registry itself is config/privacy.py (it names the apps' rules,
so it sits above them); settings.VIGIL_PRIVACY_REGISTRY points at it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PersonalData:
    """One class of personal data: what it is, where it lives, the rule that removes it and what applies the rule.

    `apply` (a dotted path to a function taking `now`, or "" when the rule is kept by something else: a key's expiry
    in Redis, the process manager's log rotation) applies the rule once; `holding` (a dotted path to a function
    returning (count, oldest datetime or None), or "" when it cannot be counted) says how much data is held now."""

    name: str
    what: str
    where: str
    rule: str
    setting: str
    task: str
    apply: str = ""
    holding: str = ""


def registry() -> list[PersonalData]:
    return import_string(settings.VIGIL_PRIVACY_REGISTRY)


def privacy_sweep(*, now: datetime | None = None, only: Callable[[PersonalData], bool] | None = None) -> dict:
    """Apply every rule (or those `only` selects) as of `now`. Returns {class name: what its rule returned}."""
    now = now or timezone.now()
    done = {}
    for item in registry():
        if not item.apply or (only is not None and not only(item)):
            continue
        done[item.name] = import_string(item.apply)(now=now)
    return done


def privacy_report() -> list[tuple[PersonalData, int | None, datetime | None]]:
    """For each class: how many records hold personal data now, and the oldest one (None where not countable)."""
    rows = []
    for item in registry():
        count, oldest = import_string(item.holding)() if item.holding else (None, None)
        rows.append((item, count, oldest))
    return rows


def registry_markdown() -> str:
    """The registry as README's privacy section shows it (a test keeps the two equal)."""
    lines = [
        "| personal data | where | rule | setting (default) | applied by |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in registry():
        lines.append(f"| {item.what} | {item.where} | {item.rule} | {item.setting or '—'} | {item.task} |")
    return "\n".join(lines)
