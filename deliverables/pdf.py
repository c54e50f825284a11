"""Drawing PDFs with ReportLab's canvas: fonts, page size, and text that fits.

ReportLab draws pages directly, a few hundred microseconds per table row and with memory that grows only with the
compressed page streams, which is what a 150,000-row packet needs (see bench/deliverables_pdf.py; HTML-to-PDF
renderers lay the whole document out in memory first). A TrueType font with wide coverage (DejaVu Sans by default,
VIGIL_PDF_FONT) is embedded as a subset, so names in any Latin, Greek or Cyrillic script print as typed; ReportLab's
own Vera is the fallback where the font file is missing.
"""

import os
from functools import cache

import reportlab
from django.conf import settings
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "VigilSans"
BOLD = "VigilSans-Bold"

# Characters that reorder or hide text (bidirectional overrides and isolates, marks, zero-width characters): a
# name cannot use them to disguise itself or the rows around it in a packet.
BIDI_AND_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\ufeff"
_STRIP_TABLE = {ord(char): None for char in BIDI_AND_INVISIBLE}


@cache
def fonts_register() -> tuple[str, str]:
    vera = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    regular = settings.VIGIL_PDF_FONT if os.path.exists(settings.VIGIL_PDF_FONT) else os.path.join(vera, "Vera.ttf")
    bold = settings.VIGIL_PDF_FONT_BOLD
    if not os.path.exists(bold):
        bold = os.path.join(vera, "VeraBd.ttf")
    pdfmetrics.registerFont(TTFont(REGULAR, regular))
    pdfmetrics.registerFont(TTFont(BOLD, bold))
    return REGULAR, BOLD


def page_size() -> tuple[float, float]:
    return LETTER if settings.VIGIL_PDF_PAGE_SIZE.lower() == "letter" else A4


def clean_text(value: str) -> str:
    """Text safe to print: bidirectional controls and invisible characters removed, control characters spaced."""
    value = (value or "").translate(_STRIP_TABLE)
    if any(ord(char) < 32 for char in value):
        value = "".join(" " if ord(char) < 32 else char for char in value)
    return value


def fit(text: str, width: float, *, font: str, size: float) -> str:
    """text cut with an ellipsis to fit width. No glyph of the font is wider than its size (1 em), so a string of
    fewer than width / size characters fits without measuring; only longer ones are measured."""
    if len(text) * size <= width:
        return text
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if pdfmetrics.stringWidth(text[:middle] + "…", font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


def wrap(text: str, width: float, *, font: str, size: float) -> list[str]:
    """Lines of text no wider than width (words longer than a line are cut)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if pdfmetrics.stringWidth(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word if pdfmetrics.stringWidth(word, font, size) <= width else fit(word, width, font=font, size=size)
        lines.append(line)
    return lines
