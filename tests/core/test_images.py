"""The image pipeline: what uploads are refused, what cleaning removes, which renditions a page gets."""

import io
import struct
import time
import warnings
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from core.images import (
    CleanImage,
    ImageInfo,
    ImageRejected,
    clean_image,
    make_demo_image,
    make_renditions,
    rendition_name,
    validate_image_upload,
)

NOT_AN_IMAGE = "This file is not an image we can use. Upload a JPEG, PNG, WebP or GIF."
DAMAGED = "This image file is damaged or incomplete. Save it again, or upload another copy."


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def upload(content: bytes, name: str = "upload.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def photo(width: int, height: int) -> Image.Image:
    """Something with detail, so encoders have real work and truncation hits real data."""
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 40) for _ in range(3)])
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    return Image.blend(gradient, noise, 0.5)


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def png_header_only(width: int, height: int) -> bytes:
    """A few hundred bytes that declare a width × height RGB PNG: what a decompression bomb looks like up front."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" + b"\x00" * width * 3 * 4)  # a few rows of black; the rest would be more of it
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


# --- Validation -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode", "expected"),
    [
        ("JPEG", "RGB", ImageInfo("jpeg", 120, 80, "image/jpeg")),
        ("PNG", "RGBA", ImageInfo("png", 120, 80, "image/png")),
        ("WEBP", "RGB", ImageInfo("webp", 120, 80, "image/webp")),
        ("GIF", "P", ImageInfo("gif", 120, 80, "image/gif")),
    ],
)
def test_each_accepted_format_passes_validation_whatever_its_name(fmt, mode, expected):
    content = encode(Image.new(mode, (120, 80), 3 if mode == "P" else "teal"), fmt)
    file = upload(content, name="no-extension", content_type="application/octet-stream")

    assert validate_image_upload(file) == expected
    assert file.read() == content  # left at its start, ready to be saved


def test_a_cameras_multi_picture_jpeg_counts_as_a_jpeg():
    content = encode(photo(64, 48), "MPO", save_all=True, append_images=[photo(64, 48)])

    assert validate_image_upload(upload(content)) == ImageInfo("jpeg", 64, 48, "image/jpeg")
    assert opened(clean_image(upload(content)).content).format == "JPEG"


def test_a_text_file_named_like_a_photo_is_refused_with_a_clear_message():
    file = upload(b"Dear editor,\nplease find my photo attached.\n" * 20, name="photo.jpg", content_type="image/jpeg")

    with pytest.raises(ImageRejected) as caught:
        validate_image_upload(file)

    assert isinstance(caught.value, ValidationError)  # so a form shows it beside the field
    assert caught.value.messages == [NOT_AN_IMAGE]


def test_an_image_in_a_format_we_do_not_take_is_refused():
    with pytest.raises(ImageRejected, match="not an image we can use"):
        validate_image_upload(upload(encode(photo(40, 30), "BMP"), name="photo.png"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_a_truncated_image_is_refused(fmt):
    content = encode(photo(400, 300), fmt)

    with pytest.raises(ImageRejected) as caught:
        validate_image_upload(upload(content[: len(content) // 2]))

    assert caught.value.messages == [DAMAGED]


def test_a_decompression_bomb_is_refused_from_its_header_at_once():
    bomb = png_header_only(30_000, 30_000)
    assert len(bomb) < 1000

    started = time.perf_counter()
    with pytest.raises(ImageRejected) as caught:
        validate_image_upload(upload(bomb, name="bomb.png"))
    assert time.perf_counter() - started < 0.5  # decoding 900 megapixels would take seconds and gigabytes

    # Over twice Pillow's own limit the header is refused by Pillow itself, which gives no size back.
    assert caught.value.messages == [
        "This image is too large in pixels (more than 179 megapixels); the limit is 40 megapixels."
    ]


def test_an_image_over_the_pixel_limit_is_refused_before_decoding():
    # 48 megapixels: under Pillow's own limit, over ours. The IDAT holds only a few rows, so decoding would fail as
    # damaged; the message shows the pixel check came first.
    with pytest.raises(ImageRejected) as caught:
        validate_image_upload(upload(png_header_only(8000, 6000), name="big.png"))

    assert caught.value.messages == [
        "This image is too large in pixels (8000 × 6000, 48 megapixels); the limit is 40 megapixels."
    ]


def test_the_pixel_limit_is_a_setting(settings):
    settings.VIGIL_IMAGE_MAX_PIXELS = 1_000_000
    content = encode(Image.new("RGB", (1001, 1000), "olive"), "PNG")

    with pytest.raises(ImageRejected) as caught:
        validate_image_upload(upload(content))
    assert caught.value.messages == [
        "This image is too large in pixels (1001 × 1000, 1.1 megapixels); the limit is 1 megapixels."
    ]
    settings.VIGIL_IMAGE_MAX_PIXELS = 1_001_000
    assert validate_image_upload(upload(content)).width == 1001


def test_pillows_bomb_warning_is_a_refusal_even_under_a_higher_setting(settings):
    settings.VIGIL_IMAGE_MAX_PIXELS = 500_000_000
    over_pillows_limit = png_header_only(10_000, Image.MAX_IMAGE_PIXELS // 10_000 + 1)

    with pytest.raises(ImageRejected, match="too large in pixels"):
        validate_image_upload(upload(over_pillows_limit))


class ReadTrap(io.BytesIO):
    """A file whose size says 30 MB and which fails the test if anything reads it."""

    size = 30 * 1024 * 1024

    def read(self, *args):
        raise AssertionError("the file was read")


def test_an_upload_over_the_byte_limit_is_refused_without_being_read():
    with pytest.raises(ImageRejected) as caught:
        validate_image_upload(ReadTrap())

    assert caught.value.messages == ["This image is 30.0 MB; the limit is 10 MB."]


def test_the_byte_limit_is_a_setting_and_applies_to_real_uploads(settings):
    settings.VIGIL_IMAGE_MAX_BYTES = 1024 * 1024
    file = upload(b"\xff\xd8" + b"\x00" * (1024 * 1024))

    with pytest.raises(ImageRejected) as caught:
        validate_image_upload(file)

    assert caught.value.messages == ["This image is 1.1 MB; the limit is 1 MB."]


# --- Cleaning ---------------------------------------------------------------------------------------------------------


def test_cleaning_a_phone_photo_removes_its_location_and_turns_it_upright():
    # Stored 300 wide and 200 high, left half red and right half blue, with Orientation 6: shown turned a quarter
    # clockwise, so upright it is 200 × 300, red on top.
    stored = Image.new("RGB", (300, 200), "blue")
    stored.paste((255, 0, 0), (0, 0, 150, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SecretCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.5)
    gps[ExifTags.GPS.GPSProcessingMethod] = b"ASCII\x00\x00\x00GPS"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">home address</x:xmpmeta>'
    content = encode(stored, "JPEG", exif=exif, xmp=xmp, comment=b"taken at home")
    for marker in (b"Exif", b"GPS", b"SecretCam", b"xmpmeta", b"taken at home"):
        assert marker in content

    assert validate_image_upload(upload(content)) == ImageInfo("jpeg", 200, 300, "image/jpeg")
    cleaned = clean_image(upload(content))

    assert (cleaned.format, cleaned.extension, cleaned.width, cleaned.height) == ("jpeg", "jpg", 200, 300)
    for marker in (b"Exif", b"GPS", b"SecretCam", b"xmpmeta", b"taken at home"):
        assert marker not in cleaned.content
    result = opened(cleaned.content)
    assert result.format == "JPEG"
    assert result.size == (200, 300)
    assert dict(result.getexif()) == {}
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(result.info)
    red, _, blue = result.getpixel((100, 40))
    assert red > 200 and blue < 50
    red, _, blue = result.getpixel((100, 260))
    assert red < 50 and blue > 200


def test_cleaning_a_png_removes_its_text_chunks():
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jane Q. Campaigner")
    text.add_text("Comment", "private note", zip=True)
    text.add_itxt("Description", "shot from my flat")
    content = encode(photo(64, 48), "PNG", pnginfo=text)
    assert b"tEXt" in content and b"zTXt" in content and b"iTXt" in content

    cleaned = clean_image(upload(content, name="chart.png"))

    assert (cleaned.format, cleaned.extension, cleaned.width, cleaned.height) == ("png", "png", 64, 48)
    for marker in (b"tEXt", b"zTXt", b"iTXt", b"Jane", b"flat"):
        assert marker not in cleaned.content
    result = opened(cleaned.content)
    assert not {"Author", "Comment", "Description"} & set(result.info)
    assert result.tobytes() == opened(content).tobytes()  # lossless: the picture itself is untouched


def test_cleaning_converts_colours_under_a_profile_to_srgb_and_drops_the_profile():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    content = encode(Image.new("RGB", (40, 30), (200, 60, 20)), "PNG", icc_profile=icc)

    result = opened(clean_image(upload(content)).content)

    assert "icc_profile" not in result.info
    assert all(abs(a - b) <= 2 for a, b in zip(result.getpixel((5, 5)), (200, 60, 20), strict=True))


def test_a_gif_becomes_a_still_png_of_its_first_frame_keeping_transparency():
    first = Image.new("P", (50, 40), 1)
    first.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    first.paste(2, (0, 0, 10, 10))
    second = Image.new("P", (50, 40), 0)
    second.putpalette(first.getpalette())
    content = encode(first, "GIF", save_all=True, append_images=[second], transparency=2, comment=b"gif note")

    cleaned = clean_image(upload(content, name="anim.gif"))

    assert (cleaned.format, cleaned.extension) == ("png", "png")
    assert b"gif note" not in cleaned.content
    result = opened(cleaned.content)
    assert result.format == "PNG" and getattr(result, "n_frames", 1) == 1
    assert result.mode == "RGBA"
    assert result.getpixel((5, 5))[3] == 0
    assert result.getpixel((30, 30)) == (255, 0, 0, 255)


def test_a_cmyk_jpeg_is_cleaned_to_an_rgb_jpeg():
    content = encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")

    result = opened(clean_image(upload(content)).content)

    assert result.mode == "RGB"
    red, green, blue = result.getpixel((20, 15))
    assert red > 200 and green < 60 and blue < 60


def test_a_webp_stays_webp_and_a_lossless_one_stays_lossless():
    logo = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
    logo.paste((10, 120, 200, 255), (10, 10, 50, 30))

    cleaned = clean_image(upload(encode(logo, "WEBP", lossless=True), name="logo.webp"))

    assert (cleaned.format, cleaned.extension) == ("webp", "webp")
    result = opened(cleaned.content)
    assert result.mode == "RGBA"
    assert result.tobytes() == logo.tobytes()


def test_a_sixteen_bit_greyscale_png_keeps_its_tones():
    content = encode(Image.new("I;16", (20, 20), 40_000), "PNG")

    result = opened(clean_image(upload(content)).content)

    assert result.mode == "L"
    assert abs(result.getpixel((3, 3)) - 40_000 // 257) <= 1


def test_a_photo_with_unreadable_exif_is_still_accepted_and_cleaned():
    content = encode(photo(40, 30), "JPEG", exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x00" * 10)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow reports the corrupt EXIF
        cleaned = clean_image(upload(content))

    assert (cleaned.width, cleaned.height) == (40, 30)
    assert b"Exif" not in cleaned.content


def test_clean_image_refuses_what_validation_refuses():
    with pytest.raises(ImageRejected):
        clean_image(upload(b"not an image", name="photo.jpg"))


def test_a_cleaned_image_is_accepted_again():
    cleaned = clean_image(upload(encode(photo(300, 200), "JPEG")))

    assert isinstance(cleaned, CleanImage)
    assert validate_image_upload(upload(cleaned.content)) == ImageInfo("jpeg", 300, 200, "image/jpeg")


# --- Renditions -------------------------------------------------------------------------------------------------------


def test_a_wide_image_gets_a_webp_and_a_jpeg_at_each_configured_width(settings):
    settings.VIGIL_IMAGE_RENDITION_WIDTHS = (320, 640, 960, 1280, 1920)

    renditions = make_renditions(encode(photo(2000, 1000), "JPEG"))

    assert [(r.width, r.height, r.format) for r in renditions] == [
        (w, w // 2, fmt) for w in (320, 640, 960, 1280, 1920) for fmt in ("webp", "jpeg")
    ]
    for rendition in renditions:
        decoded = opened(rendition.content)
        assert decoded.format == rendition.format.upper()
        assert decoded.size == (rendition.width, rendition.height)


def test_a_small_image_is_never_enlarged():
    renditions = make_renditions(encode(photo(500, 300), "PNG"), widths=(640, 1280))

    assert [(r.width, r.height, r.format) for r in renditions] == [(500, 300, "webp"), (500, 300, "jpeg")]


def test_an_image_between_widths_also_gets_its_own_width(settings):
    settings.VIGIL_IMAGE_RENDITION_WIDTHS = (320, 640, 960, 1280, 1920)

    renditions = make_renditions(encode(photo(1000, 750), "WEBP"))

    assert sorted({(r.width, r.height) for r in renditions}) == [(320, 240), (640, 480), (960, 720), (1000, 750)]


def test_renditions_of_a_transparent_png_keep_alpha_in_webp_and_sit_on_white_in_jpeg(tmp_path):
    source = Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    source.paste((200, 30, 30, 255), (400, 0, 800, 400))
    path = tmp_path / "logo.png"
    source.save(path)

    renditions = make_renditions(path, widths=(400,))

    webp, jpeg = (opened(r.content) for r in renditions)
    assert webp.mode == "RGBA"
    assert webp.getpixel((50, 100))[3] == 0
    assert jpeg.mode == "RGB"
    assert all(channel > 245 for channel in jpeg.getpixel((50, 100)))  # transparent became white, not black
    red, green, _ = jpeg.getpixel((350, 100))
    assert red > 170 and green < 70


def test_renditions_follow_the_exif_orientation_and_carry_no_metadata():
    # Stored 1600 × 1200, left half red; Orientation 8 shows it turned a quarter anticlockwise: 1200 × 1600, red below.
    stored = Image.new("RGB", (1600, 1200), "blue")
    stored.paste((255, 0, 0), (0, 0, 800, 1200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    content = encode(stored, "JPEG", exif=exif, comment=b"taken at home")

    renditions = make_renditions(io.BytesIO(content), widths=(600,))

    assert [(r.width, r.height) for r in renditions] == [(600, 800), (600, 800)]
    for rendition in renditions:
        assert b"Exif" not in rendition.content and b"taken at home" not in rendition.content
        red, _, blue = opened(rendition.content).convert("RGB").getpixel((300, 700))
        assert red > 200 and blue < 50
        red, _, blue = opened(rendition.content).convert("RGB").getpixel((300, 100))
        assert red < 50 and blue > 200


def test_renditions_refuse_a_bomb_too():
    with pytest.raises(ImageRejected):
        make_renditions(png_header_only(30_000, 30_000))


@pytest.mark.parametrize(
    ("base", "width", "fmt", "expected"),
    [
        ("articles/2026/11/photo.jpg", 640, "webp", "articles/2026/11/photo-640w.webp"),
        ("articles/2026/11/photo", 640, "jpeg", "articles/2026/11/photo-640w.jpg"),
        ("logos/acme.v2.PNG", 320, "jpeg", "logos/acme.v2-320w.jpg"),
        ("logos/acme.v2", 320, "webp", "logos/acme.v2-320w.webp"),
    ],
)
def test_rendition_names_sit_beside_the_original(base, width, fmt, expected):
    assert rendition_name(base, width, fmt) == expected


# --- Demonstration pictures -------------------------------------------------------------------------------------------


def test_a_demo_image_is_a_jpeg_of_the_size_asked_and_the_same_each_time():
    content = make_demo_image(640, 360, title="Campaigners deliver 40,000 signatures to the ministry", seed=7)

    image = opened(content)
    assert (image.format, image.size, image.mode) == ("JPEG", (640, 360), "RGB")
    assert make_demo_image(640, 360, title="Campaigners deliver 40,000 signatures to the ministry", seed=7) == content
    assert make_demo_image(640, 360, title="Campaigners deliver 40,000 signatures to the ministry", seed=8) != content
    assert sum(1 for count in image.convert("L").histogram() if count) > 50  # a picture, not a flat fill
