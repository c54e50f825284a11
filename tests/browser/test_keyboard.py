"""Signing in with the keyboard alone: every stop on the way shows where the focus is, and Enter submits."""

import re

from playwright.sync_api import expect

from tests.browser import pages
from tests.factories import VerifiedUserFactory

MAX_TABS = 40


def _focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || el.value || '').trim(),
                    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0};
        }"""
    )


def _tab_to(page, field_id: str, visited: list[dict]) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = _focused(page)
        visited.append(focused)
        if focused["id"] == field_id:
            return
    raise AssertionError(f"#{field_id} was not reached with {MAX_TABS} presses of Tab; focus went to {visited}")


def test_sign_in_with_the_keyboard_only(page, site):
    reader = VerifiedUserFactory(display_name="Kim Keys")
    page.goto("/accounts/login/")

    visited: list[dict] = []
    _tab_to(page, "id_login", visited)
    page.keyboard.type(reader.email)
    _tab_to(page, "id_password", visited)
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")

    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    pages.assert_signed_in_as(page, "Kim Keys")
    links = [stop for stop in visited if stop["tag"] == "a"]
    assert links, "no link took the focus on the way to the form"
    invisible = [stop for stop in visited if stop["outlineStyle"] == "none" or stop["outlineWidth"] < 2]
    assert not invisible, f"these took the focus without showing it: {invisible}"
    assert visited[0]["text"] == "Skip to content", "the first Tab should reach the skip link"
