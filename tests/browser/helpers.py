"""Tools the journeys share: screenshots, the accessibility check, e-mails from the outbox, two-factor codes, and
holding the Celery worker back for a moment."""

import os
import re
import signal
import time
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from core.mail import outbound_email_render
from core.models import OutboundEmail
from tests.browser.devices import SCREENSHOTS, Device
from tests.utils import wait_for

# --- Screenshots ---------------------------------------------------------------------------------------------------


def screenshot(page, name: str, device: Device) -> None:
    """Save the whole page to test-artifacts/screenshots/<name>-<device>.png (git-ignored).

    Waits for the page's load event and for every picture first: a step moves on as soon as the heading it expects
    is there, which can be before the stylesheet has applied (the capture then came out 1,648 px wide) or the
    pictures have arrived (blank boxes). Lazy pictures are loaded too, since the capture shows the whole page.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    page.evaluate(
        """async () => {
            const images = Array.from(document.images);
            images.forEach(img => { if (img.loading === "lazy") img.loading = "eager"; });
            await Promise.all(images.map(img => img.decode().catch(() => null)));
        }"""
    )
    page.screenshot(path=SCREENSHOTS / f"{name}-{device.name}.png", full_page=True)


def assert_fits_width(page, label: str) -> None:
    """Nothing on the page is wider than the window: no sideways scrolling (on a phone, no zooming out). Measured
    once the page's style sheet has loaded: before it, a wide table is laid out unstyled."""
    page.wait_for_load_state("load")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{label} ({page.url}) is {widths[0]} px wide in a {widths[1]} px window"


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
    """The newest message to this address, once the Celery worker has delivered it (sent_at set), as delivered.

    Some rows are rendered only at delivery and keep just what to render (core.mail.outbound_email_render): they are
    rendered here the same way, so the subject and body are what the recipient got.
    """

    def delivered():
        for row in OutboundEmail.objects.filter(to__contains=[to]).exclude(sent_at=None).order_by("-created_at"):
            outbound_email_render(row)
            if subject_contains.lower() in row.subject.lower():
                return row
        return None

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


# --- The Celery worker ---------------------------------------------------------------------------------------------


@contextmanager
def worker_held(worker):
    """Keep the session's Celery worker from taking tasks off the queue while the block runs, then let it go.

    A packet of a few thousand rows or a letter with a few signatories is built in well under a second, often before
    the page that started it has loaded; the page would then show it finished, with no progress left to watch. Held
    here (SIGSTOP to the prefork parent, which is what takes tasks from Redis; SIGCONT after), the job is still
    queued when the page renders, and the page's own polling must carry the bar to the end. The worker and the task
    are the real ones: only their start is delayed, as when the queue is busy.
    """
    pid = worker.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
