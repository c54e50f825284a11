"""What HTML survives: hostile input never yields executable output, and honest input keeps its shape.

The allow-lists are written out here rather than imported, so widening one in core.sanitize fails a test.
"""

import html
import re
import time
import unicodedata
from html.parser import HTMLParser

import pytest

from core.sanitize import sanitize_article_html, sanitize_reader_html, strip_tags_to_text

ARTICLE_TAGS = {
    "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "a", "strong", "em", "b", "i", "blockquote", "figure",
    "figcaption", "img", "code", "pre", "hr", "sup", "sub",
}  # fmt: skip
ARTICLE_ATTRIBUTES = {"a": {"href", "title", "rel"}, "blockquote": {"cite"}, "img": {"src", "alt", "width", "height"}}
READER_TAGS = {"p", "br", "a", "strong", "em", "b", "i", "blockquote", "code", "pre"}
READER_ATTRIBUTES = {"a": {"href", "title", "rel"}}
URL_ATTRIBUTES = {"href", "src", "cite"}
SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


class Markup(HTMLParser):
    """What a browser-like tokenizer finds in the output."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.start_tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.end_tags: list[str] = []
        self.text: list[str] = []
        self.other: list[str] = []  # comments, declarations, processing instructions
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.start_tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.start_tags.append((tag, attrs))

    def handle_endtag(self, tag):
        self.end_tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.other.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        self.other.append(decl)

    def unknown_decl(self, data):
        self.other.append(data)

    def handle_pi(self, data):
        self.other.append(data)

    @property
    def visible_text(self) -> str:
        return "".join(self.text)


def normalised_url(value: str) -> str:
    value = html.unescape(value)
    value = "".join(ch for ch in value if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))
    return value.lower()


def url_is_safe(value: str) -> bool:
    url = normalised_url(value)
    if url.startswith(("http:", "https:", "mailto:", "/", "#")):
        return True
    return SCHEME.match(url) is None  # a relative path, no scheme at all


def assert_nothing_executable(output: str, *, tags: set[str], attributes: dict[str, set[str]]) -> Markup:
    markup = Markup(output)
    assert not markup.other, f"comment or declaration survived: {markup.other}"
    for tag, attrs in markup.start_tags:
        assert tag in tags, f"<{tag}> is not on the allow-list: {output!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name} on <{tag}>: {output!r}"
            assert name not in ("style", "class", "id"), f"{name} on <{tag}>: {output!r}"
            assert name in attributes.get(tag, set()), f"{name} is not allowed on <{tag}>: {output!r}"
            if name in URL_ATTRIBUTES:
                assert url_is_safe(value or ""), f"{name}={value!r} on <{tag}>: {output!r}"
                assert not re.search(r"(java|vb)script:|data:", normalised_url(value or "")), output
    assert set(markup.end_tags) <= tags, output
    return markup


HOSTILE = {
    "script": "<script>alert(1)</script>",
    "script-src-uppercase": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "script-split": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "img-onerror-quoted-selfclosing": '<img src="/x.png" onerror="alert(1)"/>',
    "body-onload": "<body onload=alert(1)>text",
    "p-onmouseover": '<p onmouseover="alert(1)">hover</p>',
    "a-onmouseover": '<a href="https://ok.example" onmouseover="alert(1)">x</a>',
    "handlers-everywhere": (
        "<h2 onclick=alert(1)>t</h2><ul><li onfocus=alert(1) tabindex=0>l</li></ul>"
        "<blockquote onmouseenter=alert(1)>q</blockquote><em onpointerover=alert(1)>e</em>"
        "<figure onanimationstart=alert(1)><figcaption onclick=alert(1)>c</figcaption></figure>"
    ),
    "details-ontoggle": "<details open ontoggle=alert(1)>x</details>",
    "video-source-onerror": "<video><source onerror=alert(1)></video>",
    "javascript-href": '<a href="javascript:alert(1)">x</a>',
    "javascript-mixed-case": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "javascript-tab-entity": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "javascript-decimal-entity": '<a href="&#106;avascript:alert(1)">x</a>',
    "javascript-all-hex-entities": (
        '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>'
    ),
    "javascript-double-encoded": '<a href="&amp;#106;avascript:alert(1)">x</a>',
    "javascript-leading-space-newline": '<a href="  \n\t javascript:alert(1)">x</a>',
    "javascript-newline-inside": '<a href="java\nscript:alert(1)">x</a>',
    "javascript-zero-width": '<a href="java\u200bscript:alert(1)">x</a>',
    "javascript-control-char": '<a href="\x01java\x00script:alert(1)">x</a>',
    "javascript-colon-entity": '<a href="javascript&colon;alert(1)">x</a>',
    "javascript-fullwidth": '<a href="\uff4aavascript:alert(1)">x</a>',
    "javascript-unquoted": "<a href=javascript:alert(1)>x</a>",
    "vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "data-html-link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "data-svg-link": '<a href="data:image/svg+xml,<svg onload=alert(1)>">x</a>',
    "data-img-src": '<img src="data:text/html,<script>alert(1)</script>">',
    "javascript-img-src": '<img src="javascript:alert(1)">',
    "javascript-cite": '<blockquote cite="javascript:alert(1)">q</blockquote>',
    "style-url": '<p style="background:url(javascript:alert(1))">x</p>',
    "style-expression": '<p style="width: expression(alert(1))">x</p>',
    "style-block": '<style>body{background:url("javascript:alert(1)")}</style>x',
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "svg-onload": "<svg onload=alert(1)><circle r=40></circle></svg>",
    "svg-xlink": '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "mathml": "<math><mi>x</mi><mo>=</mo><mn>1</mn></math>",
    "mathml-href": '<math href="javascript:alert(1)"><mi>x</mi></math>',
    "mathml-mglyph-style": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "form-input": (
        '<form action="https://evil.example"><input name=q autofocus onfocus=alert(1)>'
        "<button formaction=javascript:alert(1)>go</button></form>"
    ),
    "base-href": '<base href="https://evil.example/">',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "object-embed": '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    "unclosed-nesting": "<p><b>x</p>",
    "nested-anchors": '<a href="x"><a href="y">z</a></a>',
    "comment": "<!-- <script>alert(1)</script> -->",
    "conditional-comment": "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "comment-breakout": "<!--><img src=x onerror=alert(1)>-->",
    "rtl-override": '<a href="https://ok.example">\u202egnp.exe</a> and \u202eplain',
    "quote-injection-title": '<a title=\'"><script>alert(1)</script>\' href="https://ok.example">x</a>',
    "quote-injection-alt": '<img src="/x.png" alt="&quot; onerror=&quot;alert(1)">',
    "quote-injection-href": '<a href="https://ok.example/?q=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</a>',
    "noscript-mxss": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "textarea-mxss": "<textarea><img src=x onerror=alert(1)></textarea>",
    "title-mxss": "<title><img src=x onerror=alert(1)></title>",
    "xmp-mxss": "<xmp><img src=x onerror=alert(1)></xmp>",
    "template-style": "<select><template><style><img src=x onerror=alert(1)>",
    "target-blank": '<a href="https://ok.example" target="_blank">ok</a>',
    "class-and-id-spoofing": '<div class="site-banner" id="login"><b class="btn">Log in</b></div>',
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_article_html_leaves_nothing_executable(source):
    output = sanitize_article_html(source)
    assert_nothing_executable(output, tags=ARTICLE_TAGS, attributes=ARTICLE_ATTRIBUTES)
    assert sanitize_article_html(output) == output


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_reader_text_leaves_nothing_executable(source):
    output = sanitize_reader_html(source)
    markup = assert_nothing_executable(output, tags=READER_TAGS, attributes=READER_ATTRIBUTES)
    for tag, attrs in markup.start_tags:
        if tag == "a":
            assert dict(attrs)["rel"] == "nofollow ugc noopener"
    assert sanitize_reader_html(output) == output


SHOWN_AS_TYPED = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)><circle r=40></circle></svg>",
    "<style>body{color:red}</style>",
    '<form action="/x"><input name=q></form>',
    "<!-- hidden --> and <!--[if IE]><script>alert(1)</script><![endif]-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<em class="brand">x</em>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="/ok" onclick="alert(1)">x</a>',
    "if a<b and c>d",
]


@pytest.mark.parametrize("source", SHOWN_AS_TYPED)
def test_reader_markup_off_the_list_is_shown_as_typed(source):
    assert Markup(sanitize_reader_html(source)).visible_text == source


def test_reader_script_is_escaped_text():
    assert sanitize_reader_html("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_reader_emphasis_survives():
    assert sanitize_reader_html("<em>fine</em>") == "<p><em>fine</em></p>"
    assert sanitize_reader_html("<STRONG>loud</STRONG> and <i>quiet</i>") == (
        "<p><strong>loud</strong> and <i>quiet</i></p>"
    )


def test_reader_paragraphs_and_linkified_address():
    output = sanitize_reader_html("Hello\n\nSee https://example.org/x?a=1&b=2 now")
    assert output == (
        "<p>Hello</p>"
        '<p>See <a href="https://example.org/x?a=1&amp;b=2" rel="nofollow ugc noopener">'
        "https://example.org/x?a=1&amp;b=2</a> now</p>"
    )


def test_reader_line_breaks_become_br_and_blank_lines_paragraphs():
    text = "First line\r\nsecond line\n\n\n   Next paragraph\n"
    assert sanitize_reader_html(text) == "<p>First line<br>second line</p><p>Next paragraph</p>"


def test_reader_formatting_across_a_blank_line_stays_well_nested():
    assert sanitize_reader_html("<em>one\n\ntwo</em>") == "<p><em>one</em></p><p><em>two</em></p>"


def test_reader_blockquote_and_pre_keep_their_shape():
    text = "Quote:\n<blockquote>They said\nthis\n\nand that</blockquote>\n<pre>x = 1\n\n  y = 2 https://x.example</pre>"
    assert sanitize_reader_html(text) == (
        "<p>Quote:</p><blockquote><p>They said<br>this</p><p>and that</p></blockquote>"
        "<pre>x = 1\n\n  y = 2 https://x.example</pre>"
    )


def test_reader_links_only_http_https_www_and_never_emails():
    output = sanitize_reader_html("Mail bob@example.org, see www.example.org or ftp://files.example or example.org")
    assert output == (
        '<p>Mail bob@example.org, see <a href="http://www.example.org" rel="nofollow ugc noopener">www.example.org</a>'
        " or ftp://files.example or example.org</p>"
    )


def test_reader_link_rel_is_always_set():
    output = sanitize_reader_html('<a href="https://x.example" rel="dofollow">x</a> <a href="mailto:a@b.example">m</a>')
    assert output == (
        '<p><a href="https://x.example" rel="nofollow ugc noopener">x</a> '
        '<a href="mailto:a@b.example" rel="nofollow ugc noopener">m</a></p>'
    )


def test_reader_trailing_punctuation_stays_out_of_the_link():
    output = sanitize_reader_html("(see https://example.org/a), then https://example.org/b.")
    assert 'href="https://example.org/a"' in output
    assert 'href="https://example.org/b"' in output


def test_reader_rtl_override_is_kept_as_text_inside_intact_markup():
    output = sanitize_reader_html("<b>\u202egnp.exe</b> https://ok.example/\u202e")
    assert output == (
        '<p><b>\u202egnp.exe</b> <a href="https://ok.example/" rel="nofollow ugc noopener">https://ok.example/</a>'
        "\u202e</p>"
    )


ARTICLE = """<h2>What changed</h2>
<p>The bill passed on <em>Tuesday</em>. Read <a href="https://parliament.example/bill/42" title="The bill">the \
text</a> or <a href="/petitions/stop-it/">sign the petition</a>.</p>
<h3>Three problems</h3>
<ul><li>Bulk <strong>retention</strong></li><li>No warrant</li></ul>
<ol><li>First</li><li>Second</li></ol>
<figure><img src="/media/articles/march.jpg" alt="Marchers outside Parliament" width="800" height="533">\
<figcaption>The march on Saturday.</figcaption></figure>
<blockquote cite="https://news.example/interview">We will not be silent.</blockquote>"""


def test_article_keeps_its_structure():
    assert sanitize_article_html(ARTICLE) == (
        "<h2>What changed</h2>\n"
        "<p>The bill passed on <em>Tuesday</em>. Read "
        '<a href="https://parliament.example/bill/42" title="The bill" rel="noopener noreferrer">the text</a> or '
        '<a href="/petitions/stop-it/" rel="noopener">sign the petition</a>.</p>\n'
        "<h3>Three problems</h3>\n"
        "<ul><li>Bulk <strong>retention</strong></li><li>No warrant</li></ul>\n"
        "<ol><li>First</li><li>Second</li></ol>\n"
        '<figure><img src="/media/articles/march.jpg" alt="Marchers outside Parliament" width="800" height="533">'
        "<figcaption>The march on Saturday.</figcaption></figure>\n"
        '<blockquote cite="https://news.example/interview">We will not be silent.</blockquote>'
    )


def test_article_removes_script_and_style_with_their_content_but_keeps_other_text():
    source = '<p>Before</p><script>alert("x")</script><style>p{color:red}</style><div class="box">Inside</div>'
    assert sanitize_article_html(source) == "<p>Before</p>\nInside"  # a removed block leaves a line break


def test_article_image_sources_are_on_this_site_only():
    source = (
        '<img src="/media/a.png"><img src="https://cdn.example/b.png"><img src="http://cdn.example/c.png">'
        '<img src="//evil.example/d.png"><img src="/\\evil.example/e.png"><img src="data:image/png;base64,AAAA">'
        '<img src="https://cdn.example/f.png" width="100%" height="50">'
    )
    assert sanitize_article_html(source) == '<img src="/media/a.png">'


def test_article_links_get_noopener_and_external_ones_noreferrer():
    source = (
        '<a href="/about/">a</a><a href="#top">b</a><a href="mailto:press@vigil.example">c</a>'
        '<a href="https://elsewhere.example/" target="_blank" rel="opener">d</a><a href="//elsewhere.example/">e</a>'
    )
    assert sanitize_article_html(source) == (
        '<a href="/about/" rel="noopener">a</a><a href="#top" rel="noopener">b</a>'
        '<a href="mailto:press@vigil.example" rel="noopener">c</a>'
        '<a href="https://elsewhere.example/" rel="noopener noreferrer">d</a>'
        '<a href="//elsewhere.example/" rel="noopener noreferrer">e</a>'
    )


def test_article_drops_headings_outside_the_outline_but_keeps_their_text():
    assert sanitize_article_html("<h1>Big</h1><h5>Small</h5><h4>Ok</h4>") == "Big\nSmall<h4>Ok</h4>"


@pytest.mark.parametrize("function", [sanitize_article_html, sanitize_reader_html])
def test_ten_thousand_characters_are_quick(function):
    chunk = "Some <em>words</em> & https://example.org/page?x=1 <b>bold</b>\n\n"
    source = (chunk * (10_000 // len(chunk) + 1))[:10_000]
    started = time.perf_counter()
    output = function(source)
    assert time.perf_counter() - started < 1.0
    assert output.count("words") == source.count("words")


SAMPLES = [
    ARTICLE,
    "Hello\n\nSee https://example.org/x?a=1&b=2 now",
    "<em>one\n\ntwo</em> &amp; AT&T &lt;tag&gt; &nbsp;&copy;",
    "<blockquote>q</blockquote><pre>\n  code\n</pre>",
    "www.example.org/path_(x), (https://example.org/y).",
]


@pytest.mark.parametrize("source", SAMPLES)
def test_sanitising_twice_changes_nothing(source):
    article = sanitize_article_html(source)
    assert sanitize_article_html(article) == article
    reader = sanitize_reader_html(source)
    assert sanitize_reader_html(reader) == reader


def test_empty_input_gives_empty_output():
    assert sanitize_article_html("") == ""
    assert sanitize_reader_html("") == ""
    assert sanitize_reader_html("\n \n\n") == ""
    assert strip_tags_to_text("") == ""


def test_strip_tags_to_text_gives_collapsed_plain_text():
    source = (
        "<h2>Title</h2>\n<p>Hello&nbsp;<b>world</b> &amp; friends</p>"
        "<script>alert(1)</script><style>p{}</style><!-- note --><ul><li>one</li><li>two</li></ul>"
        "<p>a &lt;b&gt; c</p>"
    )
    assert strip_tags_to_text(source) == "Title Hello world & friends one two a <b> c"


def test_strip_tags_to_text_of_sanitised_reader_html_reads_like_the_input():
    assert (
        strip_tags_to_text(sanitize_reader_html("First\n\nSecond <script>x</script>"))
        == "First Second <script>x</script>"
    )
