"""The image pipeline shared by articles' galleries, petitions' images and organisations' logos.

Three steps, each a pure function over Pillow and the settings, with no models and no storage:

- `validate_image_upload` decides, from the file's content alone, whether an upload is an image we accept. Its name
  and the content type the browser sent are ignored. It refuses, each with a message a person can act on: files over
  VIGIL_IMAGE_MAX_BYTES (checked before anything is read), images over VIGIL_IMAGE_MAX_PIXELS (checked from the
  header, before any pixel is decoded), anything that is not JPEG, PNG, WebP or GIF, and damaged or truncated files
  (the whole image is decoded to find out).
- `clean_image` bakes the EXIF orientation into the pixels and re-encodes the image with no metadata at all: no EXIF
  (a phone's GPS position), no XMP, no comments, no PNG text chunks, no ICC profile. Colours under an embedded profile
  are first converted to sRGB, which is what a browser assumes for an untagged image, so they still look the same.
  Only the first frame of an animation is kept: a GIF becomes a still PNG, an animated WebP or PNG a still image.
- `make_renditions` produces the downscaled copies a page's `srcset` offers: a WebP and a JPEG fallback for every
  configured width (VIGIL_IMAGE_RENDITION_WIDTHS) up to the image's own width, never enlarged.

`renditions_store` is the one step that touches storage: it saves an image's renditions beside it, for the models
that keep them (articles' and petitions' images, sign-ons' logos). `make_demo_image` draws a picture for
demonstration content with Pillow alone.

Pillow's own decompression-bomb limit (Image.MAX_IMAGE_PIXELS) stays in force as an outer bound: an image over it is
refused here even if VIGIL_IMAGE_MAX_PIXELS is set higher. Nothing in Pillow's global state is changed; truncated
files are refused as long as nothing else sets ImageFile.LOAD_TRUNCATED_IMAGES.
"""

import io
import math
import os
import posixpath
import random
import struct
import textwrap
import warnings
from dataclasses import dataclass
from functools import cache
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import ExifTags, Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

try:
    from PIL import ImageCms
except ImportError:  # a Pillow built without Little CMS: profiles are dropped without conversion
    ImageCms = None

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MB
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_RENDITION_WIDTHS = (320, 640, 960, 1280, 1920)

JPEG_QUALITY = 88  # a cleaned original: close to what was uploaded
RENDITION_JPEG_QUALITY = 82
RENDITION_WEBP_QUALITY = 80

# Pillow's format name → ours. MPO is the multi-picture JPEG some cameras write; its first picture is a plain JPEG.
_ACCEPTED = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
_PLUGINS = ("JPEG", "PNG", "WEBP", "GIF")  # the only decoders Image.open may try
_MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif"}
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}  # the EXIF orientations that turn the picture a quarter

NOT_AN_IMAGE = "This file is not an image we can use. Upload a JPEG, PNG, WebP or GIF."
DAMAGED = "This image file is damaged or incomplete. Save it again, or upload another copy."


class ImageRejected(ValidationError):
    """An upload we will not use; the message says why, in words for the person who sent it."""

    def __init__(self, message: str, code: str = "image_rejected"):
        super().__init__(message, code=code)


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "jpeg", "png", "webp" or "gif"
    width: int  # as displayed, after the EXIF orientation
    height: int
    mime_type: str


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    format: str  # "jpeg", "png" or "webp"
    width: int
    height: int
    extension: str  # "jpg", "png" or "webp", without the dot


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    format: str  # "webp" or "jpeg"
    content: bytes


def max_bytes() -> int:
    return getattr(settings, "VIGIL_IMAGE_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_pixels() -> int:
    return getattr(settings, "VIGIL_IMAGE_MAX_PIXELS", DEFAULT_MAX_PIXELS)


def rendition_widths() -> tuple[int, ...]:
    return tuple(getattr(settings, "VIGIL_IMAGE_RENDITION_WIDTHS", DEFAULT_RENDITION_WIDTHS))


# --- Validation -------------------------------------------------------------------------------------------------------


def validate_image_upload(file: File | BinaryIO) -> ImageInfo:
    """What the upload is, if it is an image we accept; ImageRejected otherwise.

    The file is decoded in full, so a form that calls this has seen the worst the file can do. It is left at its
    start, ready to be read again.
    """
    _check_bytes(file)
    decoded = _decode(file)
    file.seek(0)
    return decoded.info


def _check_bytes(file: File | BinaryIO) -> None:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, os.SEEK_END)
        size = file.tell()
    limit = max_bytes()
    if size > limit:
        raise ImageRejected(f"This image is {_megabytes(size)}; the limit is {_megabytes(limit, exact=False)}.")


def _megabytes(size: int, *, exact: bool = True) -> str:
    """30.0 MB; a size just over a limit is rounded up, so it never reads as equal to the limit."""
    if exact:
        return f"{math.ceil(size * 10 / MB) / 10:.1f} MB"
    return f"{round(size / MB, 1):g} MB"


def _pixel_limit_message(detail: str) -> str:
    return (
        f"This image is too large in pixels ({detail}); the limit is {round(max_pixels() / 1_000_000, 2):g} megapixels."
    )


@dataclass
class _Decoded:
    image: Image.Image  # loaded, turned the right way up, possibly reduced by a JPEG draft
    info: ImageInfo  # the full size, as displayed
    lossless_webp: bool


def _decode(fp, *, draft_width: int | None = None) -> _Decoded:
    """Open, check and fully decode an image from a binary file object.

    The header is read first, and the format and pixel count are checked before any pixel is decoded. `draft_width`
    lets a JPEG decode at a reduced scale (1/2, 1/4 or 1/8) when only that many pixels across are needed.
    """
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            # Over Image.MAX_IMAGE_PIXELS Pillow only warns; here that is a refusal, like its error at twice that.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            fp.seek(0)
            with Image.open(fp, formats=_PLUGINS) as probe:
                kind = _ACCEPTED[probe.format]
                raw_size = probe.size
                if raw_size[0] * raw_size[1] > limit:
                    width, height = raw_size
                    megapixels = math.ceil(width * height / 100_000) / 10  # rounded up, like the byte count
                    raise ImageRejected(_pixel_limit_message(f"{width} × {height}, {megapixels:g} megapixels"))
                probe.verify()
            # verify() leaves the image unusable: open again to decode it.
            fp.seek(0)
            image = Image.open(fp, formats=_PLUGINS)
            if _ACCEPTED.get(image.format) != kind or image.size != raw_size:
                raise ImageRejected(DAMAGED)
            if draft_width and image.format in ("JPEG", "MPO"):
                # A JPEG's EXIF precedes its pixels, so the orientation is known before decoding.
                orientation = _orientation(image)
                shown_width = raw_size[1] if orientation in _SWAPPING_ORIENTATIONS else raw_size[0]
                if draft_width < shown_width:
                    scale = draft_width / shown_width
                    image.draft("RGB", (math.ceil(raw_size[0] * scale), math.ceil(raw_size[1] * scale)))
            image.load()
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        bound = round(2 * (Image.MAX_IMAGE_PIXELS or 0) / 1_000_000)
        raise ImageRejected(_pixel_limit_message(f"more than {bound} megapixels")) from exc
    except Image.DecompressionBombWarning as exc:
        bound = round((Image.MAX_IMAGE_PIXELS or 0) / 1_000_000)
        raise ImageRejected(_pixel_limit_message(f"more than {bound} megapixels")) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(NOT_AN_IMAGE) from exc
    except Exception as exc:
        # A malformed file can surface from a decoder as OSError, SyntaxError, ValueError, EOFError, struct.error and
        # others; whichever it is, the file is not one we can use.
        raise ImageRejected(DAMAGED) from exc

    # Read once the whole file has been seen: a PNG may keep its EXIF after the pixels.
    orientation = _orientation(image)
    if orientation != 1:
        ImageOps.exif_transpose(image, in_place=True)
    width, height = raw_size[::-1] if orientation in _SWAPPING_ORIENTATIONS else raw_size
    lossless = kind == "webp" and _webp_is_lossless(fp)
    return _Decoded(image=image, info=ImageInfo(kind, width, height, _MIME_TYPES[kind]), lossless_webp=lossless)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # EXIF too broken to read: show the pixels as they are stored
        return 1


def _webp_is_lossless(fp) -> bool:
    """Whether a WebP's (first) picture is VP8L, the lossless kind: a logo saved losslessly stays lossless."""
    try:
        fp.seek(12)  # past "RIFF", the length and "WEBP"
        while True:
            header = fp.read(8)
            if len(header) < 8:
                return False
            fourcc, length = header[:4], struct.unpack("<I", header[4:])[0]
            if fourcc in (b"VP8L", b"VP8 "):
                return fourcc == b"VP8L"
            if fourcc == b"ANMF":  # an animation's first frame: 16 bytes of frame header, then its own chunks
                frame = fp.read(min(length, 64))
                return b"VP8L" in frame[16:] and b"VP8 " not in frame[16:]
            fp.seek(length + (length & 1), os.SEEK_CUR)
    finally:
        fp.seek(0)


# --- Colour and mode --------------------------------------------------------------------------------------------------


@cache
def _srgb_profile():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert colours under an embedded ICC profile to sRGB, so the profile can be dropped without a colour shift."""
    icc = image.info.get("icc_profile")
    if not icc or ImageCms is None or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, _srgb_profile(), outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken or mismatched profile: fall back to the plain conversion


def _flatten(image: Image.Image) -> Image.Image:
    """RGBA onto white, for formats without transparency."""
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _normalise(image: Image.Image, *, keep_alpha: bool, keep_grey: bool = True) -> Image.Image:
    """The image in "RGB", "RGBA" (only when keep_alpha and some pixel is see-through) or "L" (only when keep_grey)."""
    image = _to_srgb(image)
    if image.mode.startswith("I"):  # 16-bit greyscale PNG: scale, don't clip, to 8 bits
        image = image.convert("I").point(lambda v: v / 257).convert("L")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema() == (255, 255):
            image = rgba.convert("RGB")  # an alpha channel that hides nothing
        else:
            return _strip(rgba if keep_alpha else _flatten(rgba))
    if image.mode in ("L", "1"):
        image = image.convert("L") if keep_grey else image.convert("RGB")
    elif image.mode != "RGB":
        image = image.convert("RGB")
    return _strip(image)


def _strip(image: Image.Image) -> Image.Image:
    """Forget what the decoder read besides pixels. Some encoders reuse it: a JPEG's comment, a PNG's ICC profile."""
    image.info = {}
    return image


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    """Save with only the options given: nothing the decoder read (a comment, a profile, EXIF) comes along."""
    out = io.BytesIO()
    _strip(image).save(out, format=fmt.upper(), **options)
    return out.getvalue()


# --- Cleaning ---------------------------------------------------------------------------------------------------------


def clean_image(file: File | BinaryIO) -> CleanImage:
    """The upload, validated, turned the right way up and re-encoded with no metadata.

    JPEG stays JPEG (quality 88, optimised, progressive), PNG stays PNG, WebP stays WebP (lossless if it was). A GIF
    becomes a PNG of its first frame: animation is not kept. Transparency is kept where the format allows it.
    """
    _check_bytes(file)
    decoded = _decode(file)
    file.seek(0)
    kind = decoded.info.format
    if kind == "jpeg":
        image = _normalise(decoded.image, keep_alpha=False)
        content = _encode(image, "jpeg", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif kind == "webp":
        image = _normalise(decoded.image, keep_alpha=True, keep_grey=False)
        if decoded.lossless_webp:
            content = _encode(image, "webp", lossless=True, quality=80, method=4)
        else:
            content = _encode(image, "webp", quality=JPEG_QUALITY, method=4)
    else:  # png, and gif as png
        image = _normalise(decoded.image, keep_alpha=True)
        content = _encode(image, "png")
        kind = "png"
    return CleanImage(content, kind, image.width, image.height, _EXTENSIONS[kind])


# --- Renditions -------------------------------------------------------------------------------------------------------


def make_renditions(
    source: str | os.PathLike | bytes | File | BinaryIO, *, widths: tuple[int, ...] | None = None
) -> list[Rendition]:
    """A WebP and a JPEG at each width, narrowest first, from an image file, a path or the bytes of an image.

    The widths (by default VIGIL_IMAGE_RENDITION_WIDTHS) are those not wider than the image, plus the image's own
    width when it is narrower than the widest configured one: the largest rendition always carries all the detail
    there is, up to that cap, and nothing is enlarged. The JPEG is flattened onto white; the WebP keeps transparency.
    The source is checked like an upload (format, pixel count, damage) but not against the byte limit.
    """
    widths = tuple(sorted({int(w) for w in (widths or rendition_widths()) if int(w) > 0}))
    if not widths:
        raise ValueError("make_renditions needs at least one positive width")
    if isinstance(source, bytes):
        return _renditions(io.BytesIO(source), widths)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fp:
            return _renditions(fp, widths)
    return _renditions(source, widths)


def _renditions(fp, widths: tuple[int, ...]) -> list[Rendition]:
    decoded = _decode(fp, draft_width=widths[-1])
    full_width, full_height = decoded.info.width, decoded.info.height
    chosen = sorted({w for w in widths if w <= full_width} | {min(full_width, widths[-1])})

    base = _normalise(decoded.image, keep_alpha=True)
    renditions = []
    for width in chosen:
        height = max(1, round(full_height * width / full_width))
        scaled = base if base.size == (width, height) else base.resize((width, height), Image.LANCZOS, reducing_gap=3.0)
        webp = scaled if scaled.mode != "L" else scaled.convert("RGB")
        jpeg = _flatten(scaled) if scaled.mode == "RGBA" else scaled
        webp_bytes = _encode(webp, "webp", quality=RENDITION_WEBP_QUALITY)
        jpeg_bytes = _encode(jpeg, "jpeg", quality=RENDITION_JPEG_QUALITY, optimize=True, progressive=True)
        renditions += [Rendition(width, height, "webp", webp_bytes), Rendition(width, height, "jpeg", jpeg_bytes)]
    return renditions


def rendition_name(base_name: str, width: int, fmt: str) -> str:
    """Where a rendition is stored, beside its original: ("articles/2026/11/photo.jpg", 640, "webp") →
    "articles/2026/11/photo-640w.webp"."""
    if fmt not in _EXTENSIONS:
        raise ValueError(f"Unknown rendition format {fmt!r}")
    stem, suffix = posixpath.splitext(base_name)
    if suffix.lower() not in _IMAGE_SUFFIXES:
        stem = base_name
    return f"{stem}-{width}w.{_EXTENSIONS[fmt]}"


# --- Demonstration pictures -------------------------------------------------------------------------------------------

_PALETTES = (
    # sky, ground, and two accents
    ((24, 44, 89), (224, 122, 95), (242, 204, 143), (129, 178, 154)),
    ((14, 77, 100), (246, 189, 96), (247, 237, 226), (245, 202, 195)),
    ((38, 70, 83), (233, 196, 106), (42, 157, 143), (244, 162, 97)),
    ((61, 52, 139), (255, 183, 77), (118, 120, 237), (247, 184, 1)),
    ((20, 33, 61), (252, 163, 17), (229, 229, 229), (255, 255, 255)),
    ((53, 80, 112), (234, 172, 139), (181, 101, 118), (229, 107, 111)),
)


def make_demo_image(width: int, height: int, *, title: str, seed: int) -> bytes:
    """A JPEG for demonstration content: a gradient sky, soft shapes and hills, and the title along the bottom.

    The same arguments always give the same bytes.
    """
    rng = random.Random(seed)
    sky, ground, accent, accent2 = rng.choice(_PALETTES)

    mask = Image.linear_gradient("L").resize((width, height), Image.BILINEAR)
    picture = Image.composite(Image.new("RGB", (width, height), ground), Image.new("RGB", (width, height), sky), mask)

    # Shapes are drawn at twice the size and reduced with LANCZOS: smooth edges without an anti-aliasing library.
    small = (max(1, width * 2), max(1, height * 2))
    shapes = Image.new("RGBA", small, (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    sw, sh = small
    sun = rng.uniform(0.08, 0.16) * min(sw, sh) * 2
    sx, sy = rng.uniform(0.15, 0.85) * sw, rng.uniform(0.15, 0.4) * sh
    draw.ellipse((sx - sun, sy - sun, sx + sun, sy + sun), fill=(*accent, 210))
    for _ in range(rng.randint(4, 8)):
        r = rng.uniform(0.03, 0.12) * min(sw, sh)
        x, y = rng.uniform(0, sw), rng.uniform(0, sh * 0.6)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*rng.choice((accent, accent2)), rng.randint(40, 110)))
    for layer, colour in enumerate((accent2, ground)):
        top = sh * (0.62 + 0.1 * layer)
        points = [(0, sh)]
        steps = 8
        for i in range(steps + 1):
            points.append((sw * i / steps, top + rng.uniform(-0.08, 0.08) * sh))
        points.append((sw, sh))
        shade = tuple(int(c * (0.75 - 0.2 * layer)) for c in colour)
        draw.polygon(points, fill=(*shade, 255))
    picture = picture.convert("RGBA")
    picture.alpha_composite(shapes.resize((width, height), Image.LANCZOS))

    if title:
        _draw_title(picture, title)
    return _encode(picture.convert("RGB"), "jpeg", quality=85, optimize=True)


def _draw_title(picture: Image.Image, title: str) -> None:
    width, height = picture.size
    size = max(10, min(height // 12, width // 16))
    font = ImageFont.load_default(size=size)
    margin = size
    line_length = max(8, int((width - 2 * margin) / (size * 0.55)))
    lines = textwrap.wrap(title, width=line_length)[:3]
    line_height = int(size * 1.25)
    band_height = line_height * len(lines) + margin
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, height - band_height - margin // 2, width, height), fill=(0, 0, 0, 120))
    y = height - band_height
    for line in lines:
        draw.text((margin + max(1, size // 20), y + max(1, size // 20)), line, font=font, fill=(0, 0, 0, 160))
        draw.text((margin, y), line, font=font, fill=(255, 255, 255, 255))
        y += line_height
    picture.alpha_composite(overlay)


def renditions_store(field_file, *, widths: tuple[int, ...] | None = None) -> list[dict]:
    """Make the renditions of a stored image and save them beside it, under names fixed by width and format.

    `widths` as make_renditions takes them (by default VIGIL_IMAGE_RENDITION_WIDTHS). Returns
    [{"width", "height", "format", "name", "source"}], what templates' srcset needs. Running it twice overwrites the
    same files, so a retried job leaves no strays; "source" lets a caller see that the renditions belong to the file
    it has now, not one replaced meanwhile (renditions_current).
    """
    source_name = field_file.name
    with field_file.open("rb") as handle:
        renditions = make_renditions(handle, widths=widths)
    stored = []
    for rendition in renditions:
        name = rendition_name(source_name, rendition.width, rendition.format)
        if default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, ContentFile(rendition.content))
        stored.append(
            {"width": rendition.width, "height": rendition.height, "format": rendition.format, "name": saved,
             "source": source_name}
        )  # fmt: skip
    return stored


def renditions_current(renditions: list[dict], source_name: str) -> bool:
    return bool(renditions) and all(r.get("source") == source_name for r in renditions)
