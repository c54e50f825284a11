"""axe-core on the pages most people see, at both widths: no serious or critical problem. Saves a screenshot of each."""

from playwright.sync_api import expect

from tests.browser.content import site_content_create
from tests.browser.helpers import axe_summary, axe_violations, screenshot


def test_key_pages_have_no_serious_accessibility_problem(page, device):
    content = site_content_create()
    story = content.story
    key_pages = {  # name: (path, something the page must show, so that the real page is checked)
        "home": ("/", story.title),
        "section": (content.section.get_absolute_url(), story.title),
        "article": (story.get_absolute_url(), story.standfirst),
        "gallery": (f"{story.get_absolute_url()}gallery/", "3 images"),
        "search": ("/search/?q=face+recognition", story.title),
        "signin": ("/accounts/login/", "Sign In"),
        "signup": ("/accounts/signup/", "Display name"),
    }
    found = []
    for name, (path, expected) in key_pages.items():
        response = page.goto(path)
        assert response.ok, f"{path} answered {response.status}"
        expect(page.get_by_role("main")).to_contain_text(expected)
        screenshot(page, name, device)
        violations = axe_violations(page)
        if violations:
            found.append(f"{name} ({path}):\n{axe_summary(violations)}")
    assert not found, "axe-core found serious or critical problems:\n" + "\n".join(found)
