"""Tools the journeys share: screenshots, the accessibility check, e-mails from the outbox, two-factor codes."""

import re
import time
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from core.models import OutboundEmail
from tests.browser.devices import SCREENSHOTS, Device
from tests.utils import wait_for

# --- Screenshots ---------------------------------------------------------------------------------------------------


def screenshot(page, name: str, device: Device) -> None:
    """Save the whole page to test-artifacts/screenshots/<name>-<device>.png (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{device.name}.png", full_page=True)


# --- Accessibility: axe-core ---------------------------------------------------------------------------------------
# axe.min.js comes from the PyPI package axe-playwright-python, pinned in requirements/constraints.txt: installed with
# the other dependencies, never fetched from a CDN. The site's Content-Security-Policy (script-src 'self') would
# block it as an injected <script>, so it is run with page.evaluate, which the policy does not govern; the page
# keeps its real policy while it is checked.
BLOCKING_IMPACTS = {"serious", "critical"}


@cache
def axe_source() -> str:
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; return the serious and critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [violation for violation in result["violations"] if violation.get("impact") in BLOCKING_IMPACTS]


def axe_summary(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) at {'; '.join(targets)}")
    return "\n".join(lines)


def assert_accessible(page, label: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core found problems on {label} ({page.url}):\n{axe_summary(violations)}"


# --- E-mail, read from the outbox the worker delivers from --------------------------------------------------------


def outbox_message(*, to: str, subject_contains: str = "", timeout: float = 20) -> OutboundEmail:
    """The newest message to this address, once the Celery worker has delivered it (sent_at set)."""

    def delivered():
        return (
            OutboundEmail.objects.filter(to__contains=[to], subject__icontains=subject_contains)
            .exclude(sent_at=None)
            .order_by("-created_at")
            .first()
        )

    assert wait_for(lambda: delivered() is not None, timeout=timeout), (
        f"No e-mail to {to} ({subject_contains or 'any subject'}) was delivered within {timeout} s. Outbox: "
        + repr(list(OutboundEmail.objects.values_list("to", "subject", "sent_at", "last_error")))
    )
    return delivered()


def link_path(body: str, path_prefix: str) -> str:
    """The path of the first link in an e-mail that starts with path_prefix (the host in e-mails is the site's own)."""
    match = re.search(r"https?://[^\s/]+(" + re.escape(path_prefix) + r"[^\s<>\"']*)", body)
    assert match, f"No link to {path_prefix} in the e-mail:\n{body}"
    return urlsplit(match.group(0)).path


# --- Two-factor codes ----------------------------------------------------------------------------------------------


def totp_code(secret: str) -> str:
    """The authenticator code for this moment; waits for the next period when this one is about to end."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))
