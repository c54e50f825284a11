"""An editor signs in with their second factor, writes a story with a picture in the admin, and publishes it."""

import io

from PIL import Image

from accounts.roles import EDITORS
from tests.browser import pages
from tests.browser.content import site_content_create
from tests.factories import staff_user, totp_enable

TITLE = "Council votes to pause its camera network"


def _png(path) -> None:
    picture = Image.new("RGB", (1200, 800), (40, 90, 160))
    picture.paste((230, 200, 60), (400, 250, 800, 550))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", optimize=True)
    path.write_bytes(buffer.getvalue())


def test_editor_journey(page, device, tmp_path):
    content = site_content_create()
    editor = staff_user(EDITORS, mfa=False)
    secret = totp_enable(editor)
    upload = tmp_path / "cameras.png"
    _png(upload)

    pages.login_with_mfa(
        page, email=editor.email, password="correct horse battery staple", secret=secret, next_path="/admin/"
    )
    pages.admin_article_add(
        page,
        device,
        title=TITLE,
        section_name=content.section.name,
        standfirst="The council will switch off forty cameras while it reviews how the footage is used.",
        body="<p>The vote was unanimous.</p>",
        image=upload,
        alt_text="A yellow square on a blue background, standing in for a street camera.",
    )
    pages.admin_article_publish(page, title=TITLE)
    pages.home_shows_article(page, title=TITLE)
    pages.feed_lists_article(page, title=TITLE)
