"""Browser journeys: Debian's Chromium, driven by Playwright, against a live server on PostgreSQL and a real worker.

Every test that takes the `page` fixture runs twice, at a phone width (390 px) and a desktop width (1280 px), and
fails if the browser logged a console error, hit an uncaught exception, or asked for anything from a host other
than the live server (such requests are also blocked, so a page that depends on one breaks visibly).

Chromium comes from Debian (`scripts/ensure-browser` installs it for `make test`); Playwright's own browser download
is not used. A machine without it fails these tests with one line saying how to install it.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.devices import DEVICES, FAILURES, Device
from tests.browser.guards import BrowserGuard

# Playwright's sync API runs an asyncio event loop in this thread (switching to it with greenlets), so Django sees
# "a running event loop" whenever a test touches the ORM between two browser calls and would raise
# SynchronousOnlyOperation. The test code is synchronous and the live server answers from threads of its own, so
# the check guards against nothing here. Set before Django opens any connection.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = f"Chromium is missing at {CHROMIUM}: install it with 'sudo apt-get install -y chromium' (make test does)"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session; each test gets a fresh context (cookies, storage) of its own."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.fail("The Python package playwright is missing: run make install (dev extras).", pytrace=False)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{INSTALL_HINT}.", pytrace=False)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Error as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            pytest.fail(f"{INSTALL_HINT}; launching it failed: {first_line}", pytrace=False)
        yield chromium
        chromium.close()


@pytest.fixture(params=DEVICES, ids=lambda device: f"{device.name}-{device.width}")
def device(request) -> Device:
    return request.param


@pytest.fixture
def site(live_server, celery_worker):
    """The live server (a thread on the test database) with the session's real Celery worker beside it.

    Tests that take it are transactional: what the test writes, the server and the worker see, and the other way
    round. E-mails are written to the outbox table (core.models.OutboundEmail) and delivered by the worker.
    """
    return live_server


@pytest.fixture
def guard(site) -> BrowserGuard:
    return BrowserGuard(base_url=site.url)


@pytest.fixture
def context(browser, device, guard):
    context = browser.new_context(base_url=guard.base_url, **device.context_options())
    context.set_default_timeout(TIMEOUT_MS)
    guard.attach(context)
    yield context
    context.close()


@pytest.fixture
def page(context, guard, request) -> Iterator:
    """A page on the live server; on teardown, any console error or outside request fails the test."""
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        FAILURES.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # a picture of the broken page is a bonus, not a second failure
            page.screenshot(path=FAILURES / f"{request.node.name}.png", full_page=True)
    guard.assert_clean()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep the call phase's report on the test, so the page fixture can screenshot a failure."""
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
