"""Plain text as people type it."""

import re
import unicodedata


def plain_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: a blank line separates them; line breaks inside one are folded into spaces."""
    text = unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n"))
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]
