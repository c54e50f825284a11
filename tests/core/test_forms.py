"""CleanImageField: the image upload of articles' and petitions' forms, checked by content and stored cleaned."""

import io

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from articles.forms import ArticleImageForm
from core.forms import CleanImageField
from petitions.forms import PetitionForm
from tests.factories import image_bytes


class _ImageForm(forms.Form):
    image = CleanImageField(required=False)


def _gps_photo() -> bytes:
    image = Image.new("RGB", (300, 200), (40, 90, 160))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS position
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_an_upload_is_replaced_by_its_cleaned_copy_named_for_its_format():
    upload = SimpleUploadedFile("Street Photo.jpeg", _gps_photo(), content_type="image/jpeg")
    form = _ImageForm(data={}, files={"image": upload})
    assert form.is_valid(), form.errors
    cleaned = form.cleaned_data["image"]
    assert (cleaned.name, cleaned.content_type) == ("Street Photo.jpg", "image/jpeg")
    with Image.open(io.BytesIO(cleaned.read())) as result:
        assert result.size == (300, 200) and not result.getexif()


def test_a_gif_becomes_a_png():
    form = _ImageForm(data={}, files={"image": SimpleUploadedFile("a.gif", image_bytes("GIF"), "image/gif")})
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["image"].name, form.cleaned_data["image"].content_type) == ("a.png", "image/png")


def test_what_is_not_an_image_gets_the_pipelines_message():
    form = _ImageForm(data={}, files={"image": SimpleUploadedFile("a.jpg", b"not an image", "image/jpeg")})
    assert not form.is_valid()
    assert form.errors["image"] == ["This file is not an image we can use. Upload a JPEG, PNG, WebP or GIF."]


def test_no_upload_leaves_the_value_as_it_was():
    form = _ImageForm(data={}, files={}, initial={"image": "petitions/old.jpg"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["image"] == "petitions/old.jpg"


@pytest.mark.parametrize("form_class", [ArticleImageForm, PetitionForm])
def test_articles_and_petitions_clean_their_images_with_it(form_class):
    assert isinstance(form_class().fields["image"], CleanImageField)
