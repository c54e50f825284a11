"""The steps people take through Vigil, one small function each, so that journeys read as a list of steps.

Each step starts where the previous one left the browser, does what a person would (follow a visible link, type,
press a key), checks what that person would see, and leaves the browser on the next page. Steps for comments,
petitions, deliveries and moderation go here beside these, and journeys in test_*.py string them together.
"""

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.devices import Device
from tests.browser.helpers import link_path, outbox_message, screenshot, totp_code, worker_held

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
        assert _image_loaded(lead), "the lead image did not load"
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


def _image_loaded(image) -> bool:
    """Whether the <img> loaded, once it has finished loading: decode() settles then (rejects if it is broken).

    Reading img.complete straight after the element turns visible raced the download on a slow run."""
    return image.evaluate("img => img.decode().then(() => img.naturalWidth > 0, () => false)")


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
    assert _image_loaded(image), "the story's picture did not load"


def feed_lists_article(page: Page, *, title: str) -> None:
    """The RSS feed (fetched through the browser's own session) names the story."""
    response = page.request.get("/feeds/rss/")
    assert response.ok, response.status
    assert "xml" in response.headers["content-type"]
    assert f"<title>{title}</title>" in response.text()


# --- Discussion ----------------------------------------------------------------------------------------------------


def messages_region(page: Page):
    """The "Thank you…" line the site shows after a form (base.html's messages, role=status)."""
    return page.locator(".messages[role=status]")


def comment_item(page: Page, *, author: str, text: str | None = None):
    """A comment on the page: its <article>, whose accessible name is its author's name (aria-labelledby)."""
    item = main(page).get_by_role("article", name=author, exact=True)
    return item.filter(has_text=text) if text else item


def discussion_open_from_article(page: Page, device: Device) -> None:
    """From an article, follow the comment count under "Discussion" to the discussion page."""
    title = page.get_by_role("heading", level=1).inner_text()
    section = main(page).get_by_role("region", name="Discussion")
    section.get_by_role("link", name=re.compile(r"^\d+ comments?$")).click()
    expect(page).to_have_url(re.compile(r"/news/[\w-]+/discussion/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Discussion: {title}")
    screenshot(page, "discussion", device)


def comment_post(page: Page, *, text: str) -> None:
    """On a discussion page, write a comment and post it; leaves the browser on the new comment's own page."""
    write = main(page).get_by_role("region", name="Join the discussion")
    write.get_by_label("Your comment").fill(text)
    write.get_by_role("button", name="Post comment").click()
    expect(page).to_have_url(re.compile(r"/comments/\d+/#c\d+$"))


def assert_comment_awaiting_review(page: Page, *, author: str, text: str) -> None:
    """A new account's first comment is held: its author is told so, and sees it marked on the page."""
    expect(messages_region(page)).to_contain_text("Your comment is awaiting review")
    item = comment_item(page, author=author, text=text)
    expect(item).to_be_visible()
    expect(item.get_by_role("note")).to_contain_text("Awaiting review: only you can see this comment")


def comment_reply(page: Page, *, to: str, author: str, text: str) -> None:
    """Reply to another reader's comment ("Reply to NAME"); leaves the browser on the reply's own page."""
    comment_item(page, author=to).get_by_role("link", name=f"Reply to {to}").click()
    expect(page.get_by_role("heading", level=1, name="Reply to a comment")).to_be_visible()
    expect(comment_item(page, author=to)).to_be_visible()  # the comment being answered is shown above the form
    page.get_by_label("Your reply").fill(text)
    main(page).get_by_role("button", name="Post reply").click()
    expect(messages_region(page)).to_contain_text("Your comment is posted.")
    reply = comment_item(page, author=author, text=text)
    expect(reply).to_be_visible()
    expect(reply).to_contain_text(f"in reply to {to}")
    expect(reply.get_by_role("note")).to_have_count(0)  # not held: only the first comment of an account is


def comment_edit(page: Page, *, author: str, old_text: str, new_text: str) -> None:
    """Within the edit window, change one's own comment; it is then marked "edited"."""
    comment_item(page, author=author, text=old_text).get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Edit your comment")).to_be_visible()
    field = page.get_by_label("Your comment")
    expect(field).to_have_value(old_text)
    field.fill(new_text)
    main(page).get_by_role("button", name="Save changes").click()
    expect(messages_region(page)).to_contain_text("Your comment is updated.")
    edited = comment_item(page, author=author, text=new_text)
    expect(edited.locator(".comment__edited")).to_contain_text("edited")
    expect(main(page)).not_to_contain_text(old_text)


def discussion_back(page: Page) -> None:
    """From a comment's own page, back to the whole discussion."""
    main(page).get_by_role("link", name="← The whole discussion").click()
    expect(page).to_have_url(re.compile(r"/discussion/(#c\d+)?$"))


def comment_flag(page: Page, device: Device, *, author: str, reason: str, note: str) -> None:
    """Flag another reader's comment with a reason; the reader is thanked and the comment shows it was flagged."""
    comment_item(page, author=author).get_by_role("link", name="Flag", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Flag a comment for moderators")).to_be_visible()
    page.get_by_label(reason, exact=True).check()
    page.get_by_label("Anything a moderator should know").fill(note)
    screenshot(page, "comment-flag", device)
    main(page).get_by_role("button", name="Send flag").click()
    expect(messages_region(page)).to_contain_text("your flag was received")
    flagged = comment_item(page, author=author)
    expect(flagged).to_contain_text("You flagged this; a moderator will look.")
    expect(flagged.get_by_role("link", name="Flag", exact=True)).to_have_count(0)


# --- Petitions: signing with the keyboard --------------------------------------------------------------------------

MAX_TABS = 40


def focused(page: Page) -> dict:
    """What has the keyboard focus, and whether it shows (an outline at least 2 px wide)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '',
                    text: (el.innerText || '').trim(), value: el.value,
                    visible: style.outlineStyle !== 'none' && (parseFloat(style.outlineWidth) || 0) >= 2};
        }"""
    )


def tab_until(page: Page, field_id: str) -> None:
    """Press Tab until the field with this id has the focus (the first stop of a form)."""
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        stops.append(focused(page))
        if stops[-1]["id"] == field_id:
            assert stops[-1]["visible"], f"#{field_id} took the focus without showing it"
            return
    raise AssertionError(f"#{field_id} was not reached with {MAX_TABS} presses of Tab; the focus went to {stops}")


def key_to(page: Page, key: str, field_id: str) -> None:
    """One press of Tab or Shift+Tab must move the focus to exactly this field, visibly."""
    page.keyboard.press(key)
    now = focused(page)
    assert now["id"] == field_id, f"{key} went to {now}, not #{field_id}"
    assert now["visible"], f"#{field_id} took the focus without showing it"


def petition_box_count(page: Page, *, title: str) -> int:
    box = main(page).get_by_role("complementary", name=title)
    return _count_in(box)


def petition_open_from_article(page: Page, device: Device, *, title: str) -> None:
    """From an article, the petition box's "Sign the petition" leads to the petition's sign form (#sign)."""
    box = main(page).get_by_role("complementary", name=title)
    expect(box).to_be_visible()
    box.get_by_role("link", name="Sign the petition").click()
    expect(page).to_have_url(re.compile(r"/petitions/[\w-]+/#sign$"))
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(page.get_by_role("heading", name="Sign this petition")).to_be_visible()
    screenshot(page, "petition", device)


def petition_count(page: Page) -> int:
    """The count on a petition's page, as the signer reads it."""
    return _count_in(main(page).get_by_role("region", name="Sign this petition"))


def _count_in(scope) -> int:
    text = scope.locator(".petition-progress__count strong").inner_text()
    return int(re.sub(r"\D", "", text))


def petition_count_becomes(page: Page, expected: int, *, timeout: float = 15) -> None:
    """Reload the petition's page until its count reads `expected` (it is folded in and cached for a moment)."""
    deadline = time.monotonic() + timeout
    while petition_count(page) != expected:
        assert time.monotonic() < deadline, f"the count still reads {petition_count(page)}, not {expected}"
        page.wait_for_timeout(250)
        page.reload()


def petition_sign_with_keyboard(
    page: Page, device: Device, *, first_name: str, last_name: str, email: str, country: str, region: str, town: str
) -> None:
    """Sign with the keyboard alone: Tab (and Shift+Tab) to each field, type, Space ticks, Enter sends.

    Starts on the petition page reached at #sign, so that the first Tab lands in the form. Every press is checked:
    the focus goes to the next field in order (never to the hidden trap for bots) and shows where it is.
    """
    tab_until(page, "id_first_name")
    page.keyboard.type(first_name)
    key_to(page, "Tab", "id_last_name")
    page.keyboard.type(last_name)
    key_to(page, "Tab", "id_email")
    page.keyboard.type(email)
    key_to(page, "Tab", "id_country")
    page.keyboard.type(country)  # a closed <select> jumps to the option whose name is typed
    expect(page.locator("#id_country option:checked")).to_have_text(country)
    key_to(page, "Tab", "id_region")  # skipped for now: filled on the way back
    key_to(page, "Tab", "id_town")
    page.keyboard.type(town)
    key_to(page, "Shift+Tab", "id_region")
    page.keyboard.type(region)
    key_to(page, "Tab", "id_town")
    key_to(page, "Tab", "id_postal_code")
    key_to(page, "Tab", "id_show_publicly")
    page.keyboard.press("Space")
    expect(page.locator("#id_show_publicly")).to_be_checked()
    key_to(page, "Tab", "id_contact_ok")  # left unticked
    page.keyboard.press("Tab")
    button = focused(page)
    assert (button["tag"], button["text"]) == ("button", "Sign"), f"after the last box the focus went to {button}"
    assert button["visible"], "the Sign button took the focus without showing it"
    screenshot(page, "petition-filled", device)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/petitions/[\w-]+/thanks/$"))
    expect(page.get_by_role("heading", level=1, name="Check your e-mail")).to_be_visible()
    screenshot(page, "petition-check-email", device)


def signature_confirm_from_outbox(page: Page, device: Device, *, email: str) -> str:
    """Open the link in the confirmation e-mail and press the button; returns the e-mail's text (it has the
    withdraw link too)."""
    message = outbox_message(to=email, subject_contains="Confirm your signature")
    page.goto(link_path(message.body_text, "/petitions/confirm/"))
    expect(page.get_by_role("heading", level=1, name="Confirm your signature")).to_be_visible()
    main(page).get_by_role("button", name="Yes, confirm my signature").click()
    expect(page.get_by_role("heading", level=1, name="Thank you: your signature counts")).to_be_visible()
    screenshot(page, "signature-confirmed", device)
    return message.body_text


def signature_withdraw_from_email(page: Page, *, email_text: str) -> None:
    page.goto(link_path(email_text, "/petitions/withdraw/"))
    expect(page.get_by_role("heading", level=1, name="Withdraw your signature")).to_be_visible()
    main(page).get_by_role("button", name="Withdraw my signature").click()
    expect(page.get_by_role("heading", level=1, name="Your signature is withdrawn")).to_be_visible()


def petition_back(page: Page) -> None:
    main(page).get_by_role("link", name="Back to the petition").click()
    expect(page).to_have_url(re.compile(r"/petitions/[\w-]+/$"))


def recent_signers(page: Page):
    return main(page).get_by_role("region", name="Recent signers")


def recent_signers_lose(page: Page, name: str, *, timeout: float = 15) -> None:
    """Reload the petition's page until `name` is gone from its recent signers. The page's figures are cached for a
    few seconds, and a page built just before a change can be stored just after a newer one, so one stale reading
    is possible; the name must still go within the timeout."""
    deadline = time.monotonic() + timeout
    while recent_signers(page).get_by_text(name).count():
        assert time.monotonic() < deadline, f"{name} is still among the recent signers"
        page.wait_for_timeout(250)
        page.reload()


# --- Moderation ----------------------------------------------------------------------------------------------------


def queue_item(page: Page, *, text: str):
    """A comment in the moderation queue, found by its words."""
    return main(page).locator("li.queue-item").filter(has_text=text)


def moderation_queue_open(page: Page, device: Device, *, flagged: int) -> None:
    """The queue opens on its "Flagged" tab, with this many flagged comments listed."""
    expect(page.get_by_role("heading", level=1, name="Moderation queue")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Queue tabs")
    expect(tabs.get_by_role("link", name=re.compile(r"^Flagged"))).to_have_attribute("aria-current", "page")
    expect(main(page).locator("li.queue-item")).to_have_count(flagged)
    screenshot(page, "moderation-queue", device)


def moderation_remove_and_suspend(page: Page, *, text: str, reason: str, duration: str) -> None:
    """Give a reason, choose how long the author is suspended, and press the comment's "Remove and suspend"."""
    item = queue_item(page, text=text)
    expect(item.locator(".queue-item__flags")).to_contain_text("Flags:")
    page.get_by_label("Reason (shown to the author)").fill(reason)
    page.get_by_label("Suspension").select_option(label=duration)
    item.get_by_role("button", name="Remove and suspend author").click()
    expect(messages_region(page)).to_contain_text("Done: 1 comment(s).")
    expect(queue_item(page, text=text)).to_have_count(0)


def moderation_audit_open(page: Page, device: Device) -> None:
    page.get_by_role("navigation", name="Moderation").get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1, name="Audit trail")).to_be_visible()
    screenshot(page, "moderation-audit", device)


def audit_row(page: Page, *, what: str):
    """The audit trail's newest row whose "What" column reads `what` (a regular expression)."""
    rows = main(page).locator("table tbody tr")
    return rows.filter(has=page.locator("td:nth-child(3)", has_text=re.compile(what))).first


def moderation_restore_removed(page: Page, *, text: str) -> None:
    """Queue → "Recently removed" → Restore the comment."""
    page.get_by_role("navigation", name="Moderation").get_by_role("link", name="Queue").click()
    page.get_by_role("navigation", name="Queue tabs").get_by_role("link", name="Recently removed").click()
    expect(page).to_have_url(re.compile(r"/moderation/\?tab=removed$"))
    queue_item(page, text=text).get_by_role("button", name="Restore").click()
    expect(messages_region(page)).to_contain_text("The decision is reversed, and the reversal is on record.")
    expect(queue_item(page, text=text)).to_have_count(0)


# --- Organisers ----------------------------------------------------------------------------------------------------
# The dashboard is where an organiser's journey starts; verifying co-signers, exporting, compiling and delivering
# continue from it as steps of their own.


def organise_dashboard_open(page: Page, device: Device, *, title: str) -> None:
    """From the list of one's petitions (/organise/), open a petition's dashboard."""
    expect(page.get_by_role("heading", level=1, name="Your petitions")).to_be_visible()
    main(page).get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(r"/organise/[\w-]+/$"))
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    screenshot(page, "organise-dashboard", device)


def organise_totals(page: Page) -> dict[str, int]:
    """The dashboard's "Totals" as the organiser reads them: {label: number}."""
    totals = main(page).get_by_role("region", name="Totals")
    expect(totals).to_be_visible()
    pairs = totals.locator("dl > div").evaluate_all(
        "divs => divs.map(d => [d.querySelector('dt').innerText, d.querySelector('dd').innerText])"
    )
    return {label.strip(): int(re.sub(r"\D", "", value) or 0) for label, value in pairs}


def organise_section_open(page: Page, device: Device, *, link: str, heading: str, shot: str) -> None:
    """From the dashboard, follow one of the links under the petition's title (letters, packets, delivery)."""
    main(page).get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    screenshot(page, shot, device)


def organise_dashboard_back(page: Page, *, title: str) -> None:
    """From any of the petition's organiser pages, the petition's name above the heading leads to the dashboard."""
    main(page).locator(".kicker").get_by_role("link", name=title, exact=True).click()
    expect(page).to_have_url(re.compile(r"/organise/[\w-]+/$"))
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


# --- Sign-on letters -----------------------------------------------------------------------------------------------


def letter_counts_read(page: Page, *, title: str, verified: int, to_review: int) -> None:
    """On the list of the petition's letters, a letter's row counts its verified signatories and those to review."""
    row = main(page).locator("table tbody tr").filter(has=page.get_by_role("link", name=title, exact=True))
    expect(row.locator("td").nth(3)).to_have_text(str(verified))
    expect(row.locator("td").nth(4)).to_have_text(str(to_review))


def letter_open(page: Page, device: Device, *, title: str, shot: str) -> None:
    """From the list of letters, open one: its signatories, its compiled PDFs and its text."""
    main(page).get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    screenshot(page, shot, device)


def signon_row(page: Page, *, name: str):
    """A signatory's row in the organisers' table of a letter's signatories."""
    return main(page).get_by_role("region", name="Signatories").locator("tbody tr").filter(has_text=name)


def signon_verify(page: Page, *, name: str, note: str) -> None:
    """Check a signatory whose e-mail address is confirmed: a note for the record, then Verify."""
    row = signon_row(page, name=name)
    expect(row).to_contain_text("Waiting for review")
    row.get_by_label("Note (kept on record)").fill(note)
    row.get_by_role("button", name="Verify", exact=True).click()
    expect(messages_region(page)).to_contain_text(f"{name}: Verified.")
    row = signon_row(page, name=name)
    expect(row).to_contain_text("Verified")
    expect(row.get_by_role("button", name="Verify", exact=True)).to_have_count(0)
    expect(row.get_by_label("Note (kept on record)")).to_have_value(note)


def letter_public_shows(page: Page, device: Device, *, title: str, name: str, detail: str, shot: str) -> None:
    """The letter's public page (its "Public page" button) lists the verified signatory; then back."""
    main(page).get_by_role("link", name="Public page", exact=True).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    signatory = main(page).locator(".signatory").filter(has_text=name)
    expect(signatory).to_contain_text(detail)
    logo = signatory.locator("img.signatory__logo")
    if logo.count():
        assert _image_loaded(logo), f"{name}'s logo did not load"
    screenshot(page, shot, device)
    page.go_back()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def job_progress_finishes(page: Page, box, *, waiting: str, timeout_ms: int = 30_000) -> str:
    """A long job's progress, first as rendered (`waiting`, an empty bar), then as the page's script updates it
    without a reload: a full bar, "Ready" and a Download link. Returns the link's address."""
    bar = box.locator("progress")
    text = box.locator(".job-progress__text")
    link = box.get_by_role("link", name="Download")
    expect(text).to_have_text(waiting)
    assert bar.evaluate("el => el.value") == 0, "the bar of a job that has not started is not empty"
    expect(link).to_be_hidden()
    page.evaluate("() => { window.__vigilNotReloaded = true; }")  # gone if the page were loaded again
    expect(text).to_have_text("Ready", timeout=timeout_ms)
    expect(link).to_be_visible()
    assert bar.evaluate("el => el.value === el.max && el.max > 0"), "the bar of a finished job is not full"
    assert page.evaluate("() => window.__vigilNotReloaded === true"), "the page was reloaded to show the progress"
    return link.get_attribute("href")


def letter_compile(page: Page, device: Device, worker, *, signatories: int, shot: str) -> str:
    """Compile the letter as it stands and watch the job until the PDF is ready; returns the download's address."""
    compiles = main(page).get_by_role("region", name="Compiled PDFs")
    with worker_held(worker):
        compiles.get_by_role("button", name="Compile a new version").click()
        expect(messages_region(page)).to_contain_text("Compiling version 1…")
        row = compiles.locator("tbody tr").first
        expect(row.locator("td").nth(3)).to_have_text("—")  # counted when compiled
    href = job_progress_finishes(page, row, waiting=f"0 of {signatories}")
    page.reload()
    row = main(page).get_by_role("region", name="Compiled PDFs").locator("tbody tr").first
    expect(row.locator("td").nth(0)).to_contain_text("1 ·")
    expect(row.locator("td").nth(2)).to_have_text("1")  # the text's version
    expect(row.locator("td").nth(3)).to_have_text(str(signatories))
    expect(row.locator("code.checksum")).not_to_be_empty()
    screenshot(page, shot, device)
    return href


def download_ok(page: Page, href: str, *, content_type: str, starts_with: bytes) -> bytes:
    """The download answers the organiser's own session (the browser's cookies) with the file."""
    response = page.request.get(href)
    assert response.ok, f"{href} answered {response.status}"
    assert response.headers["content-type"].startswith(content_type), response.headers["content-type"]
    assert "attachment" in response.headers.get("content-disposition", ""), response.headers
    body = response.body()
    assert body.startswith(starts_with), body[:40]
    return body


# --- Signature packets ---------------------------------------------------------------------------------------------


def packet_export(page: Page, device: Device, worker, *, kind: str, rows: int) -> str:
    """Start an export of the confirmed signatures and watch its bar fill; returns what was downloaded, as text."""
    page.get_by_label(kind, exact=True).check()
    with worker_held(worker):
        main(page).get_by_role("button", name="Start the export").click()
        expect(messages_region(page)).to_contain_text("started: it is ready when the bar is full.")
        row = main(page).get_by_role("region", name="Exports").locator("tbody tr").first
        expect(row).to_contain_text(kind)
    job_progress_finishes(page, row, waiting=f"0 of {rows:,}")
    screenshot(page, "organise-packets", device)
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    with open(download.path(), encoding="utf-8-sig") as handle:
        return handle.read()


# --- Delivery ------------------------------------------------------------------------------------------------------


def deliver_by_email(page: Page, device: Device, *, to: str, documents: list[str], message: str) -> None:
    """Tick the documents, write a covering note, and have Vigil e-mail them to the decision maker."""
    deliver = main(page).get_by_role("region", name="Deliver to the decision maker")
    expect(deliver).to_contain_text(f"at {to}.")
    deliver.get_by_label("E-mailed by Vigil", exact=True).check()
    for document in documents:
        deliver.get_by_label(re.compile(re.escape(document))).check()
    deliver.get_by_label("Covering note (e-mail)").fill(message)
    # The organisers tell their signers themselves in this journey (a thousand e-mails would keep the worker busy).
    deliver.get_by_label("Tell signers who agreed to hear from the organisers").uncheck()
    screenshot(page, "organise-delivery-form", device)
    deliver.get_by_role("button", name="Deliver", exact=True).click()
    expect(messages_region(page)).to_contain_text(re.compile(r"Delivery \d+: Queued\."))


def delivery_log_row(page: Page, *, event: str):
    rows = main(page).get_by_role("region", name="Delivery log").locator("tbody tr")
    return rows.filter(has=page.locator("td:nth-child(2)", has_text=re.compile(rf"^{re.escape(event)}$")))


def delivery_log_shows(page: Page, *, event: str, timeout: float = 20) -> dict[str, str]:
    """Reload the delivery page until the log has an entry for this event (the worker writes it); returns the
    entry as the organiser reads it: {column heading: text}."""
    deadline = time.monotonic() + timeout
    while not delivery_log_row(page, event=event).count():
        assert time.monotonic() < deadline, f"no {event!r} entry in the delivery log after {timeout} s"
        page.wait_for_timeout(250)
        page.reload()
    table = main(page).get_by_role("region", name="Delivery log").locator("table")
    headings = table.locator("thead th").all_inner_texts()
    cells = delivery_log_row(page, event=event).first.locator("td").all_inner_texts()
    return {heading.strip(): cell.strip() for heading, cell in zip(headings, cells, strict=True)}
