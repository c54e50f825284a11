from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from core.text import plain_paragraphs

register = template.Library()


@register.filter
def paragraphs(text: str) -> str:
    """Plain text as escaped HTML paragraphs, hard-wrapped lines joined: prose, not a column of broken lines."""
    return mark_safe("".join(f"<p>{escape(block)}</p>" for block in plain_paragraphs(text)))
