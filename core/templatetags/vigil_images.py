from django import template
from django.core.files.storage import default_storage

register = template.Library()


@register.filter
def srcset(image, fmt: str) -> str:
    """`srcset` for an object with `renditions` ([{"width", "format", "name"}]), in one format ("webp", "jpeg")."""
    return ", ".join(
        f"{default_storage.url(r['name'])} {r['width']}w" for r in (image.renditions or []) if r["format"] == fmt
    )
