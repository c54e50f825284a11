"""The editor's workflow in the admin: write, upload, preview, publish; and what the admin refuses."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.roles import EDITORS, MODERATORS, ORGANISERS
from articles.models import Article, ArticleImage, ArticleStatus
from tests.factories import DraftArticleFactory, PublishedArticleFactory, SectionFactory, image_bytes, staff_user

pytestmark = pytest.mark.django_db


def _gps_photo() -> bytes:
    image = Image.new("RGB", (1200, 800), (40, 90, 160))
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS position
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _form(section, **overrides):
    data = {
        "title": "Police buy face recognition",
        "slug": "police-buy-face-recognition",
        "section": section.pk,
        "standfirst": "A short summary.",
        "body": "<p>First paragraph.</p><script>alert(1)</script>",
        "source_name": "",
        "source_url": "",
        "published_at_0": "",
        "published_at_1": "",
        "comments_open": "on",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-alt_text": "Cameras on a pole.",
        "images-0-caption": "Cameras",
        "images-0-credit": "Photo: Vigil",
        "images-0-position": "0",
    }
    data.update(overrides)
    return data


@pytest.fixture
def editor_client(client):
    client.force_login(staff_user(EDITORS))
    return client


def test_editor_writes_an_article_with_an_image(editor_client, django_capture_on_commit_callbacks):
    section = SectionFactory()
    upload = SimpleUploadedFile("street.jpg", _gps_photo(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks() as callbacks:
        response = editor_client.post("/admin/articles/article/add/", {**_form(section), "images-0-image": upload})
    assert response.status_code == 302, response.content.decode()[:3000]
    article = Article.objects.get(slug="police-buy-face-recognition")
    assert article.status == ArticleStatus.DRAFT
    assert "<script" not in article.body and "First paragraph." in article.body
    image = article.images.get()
    assert (image.width, image.height) == (1200, 800)
    with image.image.open("rb") as handle:
        stored = handle.read()
    assert b"Exif" not in stored and not Image.open(io.BytesIO(stored)).getexif()
    jobs = [
        callback
        for callback in callbacks
        if getattr(callback, "name", "") == "articles.tasks.article_image_render_task"
    ]
    assert len(jobs) == 1  # the renditions job, queued after commit (the others mark cached pages out of date)


def test_missing_alt_text_is_refused_and_nothing_is_lost(editor_client):
    section = SectionFactory()
    upload = SimpleUploadedFile("street.jpg", image_bytes(), content_type="image/jpeg")
    response = editor_client.post(
        "/admin/articles/article/add/", {**_form(section, **{"images-0-alt_text": ""}), "images-0-image": upload}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert "Police buy face recognition" in html  # the title typed is still in the form
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.jpg", b"this is not an image at all", "not an image we can use"),
        ("half.jpg", image_bytes()[:400], "damaged or incomplete"),
    ],
)
def test_bad_uploads_get_a_clear_message(editor_client, name, content, message):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    response = editor_client.post("/admin/articles/article/add/", {**_form(SectionFactory()), "images-0-image": upload})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ArticleImage.objects.exists()


def test_oversize_upload_is_refused_by_size(editor_client, settings):
    settings.VIGIL_IMAGE_MAX_BYTES = 50_000
    upload = SimpleUploadedFile("big.png", image_bytes("PNG", (1500, 1500)) + b"\0" * 60_000, content_type="image/png")
    response = editor_client.post("/admin/articles/article/add/", {**_form(SectionFactory()), "images-0-image": upload})
    assert "the limit is" in response.content.decode()


def test_slug_clash_is_refused_with_a_message(editor_client):
    existing = PublishedArticleFactory(slug="taken")
    data = _form(existing.section, slug="taken", **{"images-TOTAL_FORMS": "0"})
    response = editor_client.post("/admin/articles/article/add/", data)
    assert response.status_code == 200
    assert "Article with this Slug already exists." in response.content.decode()


def test_publish_and_unpublish_actions(editor_client):
    draft = DraftArticleFactory()
    editor_client.post("/admin/articles/article/", {"action": "publish", "_selected_action": [draft.pk]}, follow=True)
    draft.refresh_from_db()
    assert draft.status == ArticleStatus.PUBLISHED and draft.published_at is not None
    editor_client.post("/admin/articles/article/", {"action": "unpublish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == ArticleStatus.DRAFT


def test_admin_list_filters_and_search(editor_client):
    PublishedArticleFactory(title="Findable headline")
    response = editor_client.get("/admin/articles/article/", {"q": "Findable"})
    assert "Findable headline" in response.content.decode()
    assert editor_client.get("/admin/articles/article/", {"status__exact": "draft"}).status_code == 200


@pytest.mark.parametrize("role", [MODERATORS, ORGANISERS])
def test_other_roles_cannot_edit_articles(client, role):
    client.force_login(staff_user(role))
    assert client.get("/admin/articles/article/add/").status_code in (302, 403)
    assert client.get("/admin/articles/article/add/", follow=True).status_code == 403
