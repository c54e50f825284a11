from core.templatetags.vigil_text import paragraphs
from core.text import plain_paragraphs


def test_hard_wrapped_lines_are_joined_and_blank_lines_start_paragraphs():
    text = "Dear Ms Chief,\r\n\r\nWe write to ask\nthat you stop\n  selling it.\n\n\n  Yours,\n"
    assert plain_paragraphs(text) == ["Dear Ms Chief,", "We write to ask that you stop selling it.", "Yours,"]


def test_the_filter_escapes_what_it_wraps():
    assert paragraphs("<b>bold</b> & co\n\nnext") == "<p>&lt;b&gt;bold&lt;/b&gt; &amp; co</p><p>next</p>"
    assert paragraphs("") == ""
