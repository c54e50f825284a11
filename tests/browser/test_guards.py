"""The checks every journey relies on can fail: they catch what they are there to catch."""

from tests.browser.helpers import axe_violations


def test_guard_records_console_errors_exceptions_and_outside_requests(page, guard):
    page.goto("/")
    assert guard.problems() == []
    page.evaluate("console.error('something broke')")
    page.evaluate("setTimeout(() => { throw new Error('uncaught on purpose'); }, 0)")
    page.wait_for_timeout(200)
    problems = "\n".join(guard.problems())
    assert "something broke" in problems
    assert "uncaught on purpose" in problems
    # A page without the site's Content-Security-Policy, so that the request reaches the network layer.
    page.goto("about:blank")
    with page.expect_event("requestfailed") as failed:
        page.set_content('<img src="https://tracker.example.com/pixel.gif" alt="">')
    assert failed.value.failure.startswith("net::ERR_BLOCKED_BY_CLIENT")  # blocked by the route, never sent
    assert guard.outside_requests == ["https://tracker.example.com/pixel.gif"]
    guard.console_errors.clear()
    guard.page_errors.clear()
    guard.outside_requests.clear()


def test_accessibility_check_finds_a_known_problem(page):
    page.goto("/")
    assert axe_violations(page) == []
    page.locator("main").evaluate("main => main.insertAdjacentHTML('beforeend', '<img src=\"/static/css/vigil.css\">')")
    assert "image-alt" in {violation["id"] for violation in axe_violations(page)}
