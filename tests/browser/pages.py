"""The steps people take through Vigil, one small function each, so that journeys read as a list of steps.

Each step starts where the previous one left the browser, does what a person would (follow a visible link, type,
press a key), checks what that person would see, and leaves the browser on the next page. Steps for comments,
petitions, deliveries and moderation go here beside these, and journeys in test_*.py string them together.
"""

import re

from playwright.sync_api import Page, expect

from tests.browser.devices import Device
from tests.browser.helpers import link_path, outbox_message, screenshot, totp_code

PASSWORD = "a long enough passphrase 42"


def main(page: Page):
    return page.get_by_role("main")


def account_nav(page: Page):
    return page.get_by_role("navigation", name="Your account")


# --- Reading -------------------------------------------------------------------------------------------------------


def home_open(page: Page, device: Device, *, shoot: bool = True) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Latest stories")).to_be_visible()
    _assert_styled(page)
    if shoot:
        screenshot(page, "home", device)


def section_open_from_card(page: Page, device: Device, *, section_name: str) -> None:
    """From a list of stories, follow a story's section label to the section's page."""
    main(page).get_by_role("link", name=section_name, exact=True).first.click()
    expect(page.get_by_role("heading", level=1, name=section_name)).to_be_visible()
    screenshot(page, "section", device)


def article_open(page: Page, device: Device, *, title: str) -> None:
    main(page).get_by_role("link", name=title).first.click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    lead = page.locator(".lead-figure img")
    if lead.count():
        expect(lead).to_be_visible()
        assert lead.evaluate("img => img.complete && img.naturalWidth > 0"), "the lead image did not load"
    screenshot(page, "article", device)


def gallery_open(page: Page, device: Device, *, image_count: int) -> None:
    page.get_by_role("link", name=f"View {image_count} images").click()
    expect(page.locator("[data-gallery] > li")).to_have_count(image_count)
    screenshot(page, "gallery", device)


def gallery_next_with_arrow_key(page: Page, *, expected_index: int) -> None:
    """ArrowRight moves the address's #fragment and the keyboard focus to the next image."""
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"#image-{expected_index}$"))
    focused = page.evaluate("document.activeElement.closest('li') && document.activeElement.closest('li').id")
    assert focused == f"image-{expected_index}", f"focus is on {focused!r}, not image {expected_index}"


def gallery_previous_with_arrow_key(page: Page, *, expected_index: int) -> None:
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"#image-{expected_index}$"))


# --- Accounts ------------------------------------------------------------------------------------------------------


def signup(page: Page, device: Device, *, email: str, display_name: str, password: str = PASSWORD) -> None:
    """From any page: Join, fill in allauth's form, and arrive at "verify your e-mail address"."""
    account_nav(page).get_by_role("link", name="Join").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    screenshot(page, "signup", device)
    page.get_by_label(re.compile(r"^E-?mail")).fill(email)
    page.get_by_label(re.compile(r"^Display name")).fill(display_name)
    page.get_by_label(re.compile(r"^Password:?$")).fill(password)
    page.get_by_label(re.compile(r"^Password \(again\)")).fill(password)
    main(page).get_by_role("button", name=re.compile("sign up", re.IGNORECASE)).click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(main(page)).to_contain_text(re.compile("verify", re.IGNORECASE))


def email_confirm_from_outbox(page: Page, *, email: str) -> None:
    """Open the confirmation link the worker delivered, and press the button on the page it leads to."""
    message = outbox_message(to=email, subject_contains="confirm")
    page.goto(link_path(message.body_text, "/accounts/confirm-email/"))
    main(page).get_by_role("button", name=re.compile("confirm", re.IGNORECASE)).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/confirm-email/"))


def assert_signed_in_as(page: Page, display_name: str) -> None:
    expect(account_nav(page).get_by_role("link", name=display_name)).to_be_visible()
    expect(account_nav(page).get_by_role("button", name="Sign out")).to_be_visible()


def login(page: Page, *, email: str, password: str, next_path: str = "/") -> None:
    """Sign in with e-mail and password; leaves the browser wherever allauth sends it next."""
    if "/accounts/login/" not in page.url:
        page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label(re.compile(r"^E-?mail")).fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(password)
    main(page).get_by_role("button", name="Sign In").click()


def login_second_factor(page: Page, *, secret: str) -> None:
    """The authenticator-app step that follows a staff member's password."""
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label(re.compile("code", re.IGNORECASE)).fill(totp_code(secret))
    main(page).get_by_role("button", name=re.compile("sign in|authenticate", re.IGNORECASE)).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/2fa/authenticate/"))


def login_with_mfa(page: Page, *, email: str, password: str, secret: str, next_path: str) -> None:
    page.goto(next_path)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    login(page, email=email, password=password, next_path=next_path)
    login_second_factor(page, secret=secret)
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


# --- Checks that go with every page --------------------------------------------------------------------------------


def _assert_styled(page: Page) -> None:
    """The stylesheet arrived from /static/ and applies (the header has its accent border)."""
    border = page.locator(".site-header").evaluate("el => getComputedStyle(el).borderBottomStyle")
    assert border == "solid", "vigil.css did not load or apply"


# --- Editing in the admin ------------------------------------------------------------------------------------------


def admin_article_add(
    page: Page, device: Device, *, title: str, section_name: str, standfirst: str, body: str, image, alt_text: str
) -> None:
    """Write a new article with one image in the admin and save it as a draft; leaves the browser on the list."""
    page.get_by_role("rowheader", name="Articles").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/admin/articles/article/$"))
    page.get_by_role("link", name=re.compile(r"^Add article")).click()
    expect(page).to_have_url(re.compile(r"/admin/articles/article/add/$"))
    page.get_by_label("Title:").fill(title)
    page.keyboard.press("Tab")  # leaving the field fires "change", on which the admin's script fills in the slug
    expect(page.get_by_label("Slug:")).not_to_have_value("")  # the admin's own script fills it in from the title
    page.get_by_label("Section:").select_option(label=section_name)
    page.get_by_label("Standfirst:").fill(standfirst)
    page.get_by_label("Body:").fill(body)
    page.locator("#id_images-0-image").set_input_files(image)
    page.locator("#id_images-0-alt_text").fill(alt_text)
    screenshot(page, "admin-article-add", device)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")


def admin_article_publish(page: Page, *, title: str) -> None:
    """On the article list, tick the article and run the publish action."""
    row = page.locator("#result_list tbody tr", has_text=title)
    row.locator("input.action-select").check()
    page.get_by_label("Action:").select_option(value="publish")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("published or scheduled")
    expect(page.locator("#result_list tbody tr", has_text=title)).to_contain_text("Published")


def home_shows_article(page: Page, *, title: str) -> None:
    page.goto("/")
    link = main(page).get_by_role("link", name=title)
    expect(link).to_be_visible()
    image = page.locator(".article-card", has_text=title).locator("img")
    expect(image).to_have_count(1)
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the story's picture did not load"


def feed_lists_article(page: Page, *, title: str) -> None:
    """The RSS feed (fetched through the browser's own session) names the story."""
    response = page.request.get("/feeds/rss/")
    assert response.ok, response.status
    assert "xml" in response.headers["content-type"]
    assert f"<title>{title}</title>" in response.text()
