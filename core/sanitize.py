"""What HTML survives: the one place that decides it.

Two kinds of content reach a page:

- `sanitize_article_html` takes an editor's article body (HTML from the admin, often pasted from a word processor)
  and keeps its structure: headings, lists, quotes, figures, links. Anything else is removed, and the code inside a
  `<script>` or the rules inside a `<style>` go with it rather than turning into stray text.
- `sanitize_reader_html` takes what a reader typed into a comment box: plain text, with a few formatting tags
  allowed. Blank lines make paragraphs, bare web addresses become links, and anything that is not on the short list
  is shown exactly as typed.

`strip_tags_to_text` turns either into plain text for feeds and meta descriptions.

Every fragment goes through two sanitisers in turn, each with the same allow-lists. bleach parses it with html5lib,
cleans it and (for readers) linkifies it; bleach's maintenance ended with 6.4.0, so nh3 (the Ammonia sanitiser, a
separate parser and implementation) then has the last word. A bug in one is unlikely to be the same bug in the other.

The rules, for both kinds of content:

- Links and images may use http:, https: and mailto:, or be relative. The scheme test is made on the value with
  character references decoded, whitespace, control and invisible characters removed and Unicode folded (NFKC), so
  `jav&#x09;ascript:`, `JaVaScRiPt:`, `java\\u200bscript:` and full-width letters are all refused. A browser would
  treat some of those as harmless relative paths; refusing them costs nothing.
- No element can carry `class`, `id`, `style` or an event handler: readers cannot dress their words up as the site.
- Article links get `rel="noopener"`; links that leave the site (absolute http(s) or protocol-relative) also get
  `noreferrer`, so the sites we link to do not learn which article a reader came from. The page's Referrer-Policy
  already limits that on the site itself, but article HTML also travels in feeds and e-mails, where it does not
  apply. Reader links always get `rel="nofollow ugc noopener"`, whatever the input said.
"""

import html
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from functools import partial
from html.parser import HTMLParser
from typing import Any

import bleach
import nh3
from bleach import html5lib_shim
from bleach.linkifier import TLDS, LinkifyFilter
from bleach.sanitizer import BleachSanitizerFilter

__all__ = ["sanitize_article_html", "sanitize_reader_html", "strip_tags_to_text"]

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

ARTICLE_TAGS = frozenset(
    {
        "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "a", "strong", "em", "b", "i", "blockquote",
        "figure", "figcaption", "img", "code", "pre", "hr", "sup", "sub",
    }
)  # fmt: skip
ARTICLE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "blockquote": frozenset({"cite"}),
    "img": frozenset({"src", "alt", "width", "height"}),
}
# Elements removed together with everything inside them: their content is code, not prose.
ARTICLE_DROP_WITH_CONTENT = frozenset({"script", "style"})
ARTICLE_LINK_REL = "noopener"
ARTICLE_EXTERNAL_LINK_REL = "noopener noreferrer"

READER_TAGS = frozenset({"p", "br", "a", "strong", "em", "b", "i", "blockquote", "code", "pre"})
READER_ATTRIBUTES: dict[str, frozenset[str]] = {"a": frozenset({"href", "title"})}
READER_LINK_REL = "nofollow ugc noopener"

# Characters a browser ignores or that hide inside a scheme: whitespace, controls, format characters (zero-width
# spaces and joiners, direction overrides, the byte-order mark).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.\-]*):")
_SIZE_RE = re.compile(r"[0-9]{1,4}")


# --- URL and attribute rules, shared by both sanitisers -------------------------------------------------------------


def _normalise_url(value: str) -> str:
    """The URL as a scheme check should see it: decoded, folded, without anything invisible, lower case."""
    for _ in range(3):  # a doubly encoded value must not decode into a scheme anywhere downstream
        decoded = html.unescape(value)
        if decoded == value:
            break
        value = decoded
    value = unicodedata.normalize("NFKC", value)
    value = "".join(ch for ch in value if not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    return value.replace("\\", "/").lower()


def _url_allowed(value: str) -> bool:
    """An allowed scheme, or a relative URL (no scheme at all)."""
    match = _SCHEME_RE.match(_normalise_url(value))
    return match is None or match.group(1) in ALLOWED_PROTOCOLS


def _image_src_allowed(value: str) -> bool:
    """Only a path on this site ("/media/..."): an image from another host would tell that host who reads the
    page, and the Content-Security-Policy would block it anyway. Not "//host/...", which is another site."""
    url = _normalise_url(value)
    return url.startswith("/") and not url.startswith("//")


def _is_external(href: str) -> bool:
    url = _normalise_url(href)
    return url.startswith(("http:", "https:", "//"))


def _attribute_allowed(allowed: dict[str, frozenset[str]], tag: str, name: str, value: str) -> bool:
    if name not in allowed.get(tag, ()):
        return False
    if name in ("href", "cite"):
        return _url_allowed(value)
    if name == "src":
        return _image_src_allowed(value)
    if name in ("width", "height"):
        return _SIZE_RE.fullmatch(value.strip()) is not None
    return True


def _nh3_attribute_filter(
    allowed: dict[str, frozenset[str]], rels: frozenset[str]
) -> Callable[[str, str, str], str | None]:
    """nh3's per-attribute hook: the same rules as bleach's, plus the rel values this kind of content may carry.

    nh3 checks href and src schemes itself but treats `cite` as plain text, and would let a relative URL such as
    `java\\u200bscript:` through; this hook closes both gaps.
    """

    def attribute_filter(tag: str, name: str, value: str) -> str | None:
        if name == "rel":
            return value if tag == "a" and value in rels else None
        return value if _attribute_allowed(allowed, tag, name, value) else None

    return attribute_filter


# --- bleach stages ---------------------------------------------------------------------------------------------------


class _DropWithContent(html5lib_shim.Filter):
    """Removes the listed elements and everything inside them (runs before bleach's sanitiser)."""

    def __init__(self, source, names: frozenset[str]):
        super().__init__(source)
        self.names = names

    def __iter__(self) -> Iterator[dict[str, Any]]:
        depth = 0
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if depth:
                if kind == "StartTag" and name in self.names:
                    depth += 1
                elif kind == "EndTag" and name in self.names:
                    depth -= 1
                continue
            if kind == "StartTag" and name in self.names:
                depth = 1
                continue
            if kind in ("EmptyTag", "EndTag") and name in self.names:
                continue
            yield token


class _ArticleLinksAndImages(html5lib_shim.Filter):
    """rel="noopener" on every link, plus "noreferrer" on links that leave the site; images left without a src go."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if (
                token["type"] == "EmptyTag"
                and token["name"] == "img"
                and not (token.get("data") or {}).get((None, "src"))
            ):
                continue
            if token["type"] == "StartTag" and token["name"] == "a":
                attrs = dict(token.get("data") or {})
                href = attrs.get((None, "href"), "")
                attrs[(None, "rel")] = ARTICLE_EXTERNAL_LINK_REL if href and _is_external(href) else ARTICLE_LINK_REL
                token = {**token, "data": attrs}
            yield token


class _BleachCleaner(bleach.Cleaner):
    """bleach's Cleaner, able to remove some elements together with their content.

    With strip=True, bleach removes a disallowed tag but keeps its text, so `<style>p{color:red}</style>` would leave
    "p{color:red}" in the article. Removing the content needs the parser to see those elements as elements, and a
    filter to take them out before the sanitiser runs; bleach has no hook there, so `clean` is bleach's own with one
    filter added.
    """

    def __init__(self, *, drop_with_content: frozenset[str] = frozenset(), **kwargs):
        super().__init__(**kwargs)
        self.drop_with_content = drop_with_content
        if drop_with_content:
            self.parser = html5lib_shim.BleachHTMLParser(
                tags=self.tags | drop_with_content,
                strip=self.strip,
                consume_entities=False,
                namespaceHTMLElements=False,
            )

    def clean(self, text: str) -> str:
        if not text:
            return ""
        source = self.walker(self.parser.parseFragment(text))
        if self.drop_with_content:
            source = _DropWithContent(source, self.drop_with_content)
        filtered = BleachSanitizerFilter(
            source=source,
            allowed_tags=self.tags,
            attributes=self.attributes,
            strip_disallowed_tags=self.strip,
            strip_html_comments=self.strip_comments,
            css_sanitizer=self.css_sanitizer,
            allowed_protocols=self.protocols,
        )
        for filter_class in self.filters:
            filtered = filter_class(source=filtered)
        return self.serializer.render(filtered)


# Bare addresses a reader typed: with an http(s) scheme, or starting "www." and ending in a known top-level domain.
# Shaped like bleach's own pattern (leading parentheses are peeled off again by bleach), which would also link
# "example.org" on its own and other schemes. Invisible and direction-changing characters end an address.
_LINKIFY_URL_RE = re.compile(
    r"""\(*
    \b(?<![@.\w])
    (?:https?://(?:[\w-]+\.)*[\w-]+
      |www\.(?:[\w-]+\.)+(?:{tlds}))
    (?::[0-9]+)?(?!\.\w)\b
    (?:[/?\#][^\s\{{\}}\|\\\^`<>"\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*)?
    """.format(tlds="|".join(sorted(TLDS, key=len, reverse=True))),
    re.IGNORECASE | re.VERBOSE | re.UNICODE,
)


def _reader_link(attrs: dict, new: bool = False) -> dict | None:
    """Linkify callback: a link keeps an allowed href and gets the reader rel; without an href it becomes its text."""
    href = attrs.get((None, "href"))
    if not href or not _url_allowed(href):
        return None
    attrs[(None, "rel")] = READER_LINK_REL
    return attrs


_BREAK_RE = re.compile(r"([^\S\n]*\n\s*)")


class _Paragraphs(html5lib_shim.Filter):
    """Blank lines separate paragraphs, single line breaks become <br>, <pre> is left alone.

    Works on the token stream, so formatting a reader typed stays well nested: an <em> that spans a blank line is
    closed at the end of one paragraph and reopened in the next, a <blockquote> gets paragraphs of its own, and a
    typed <p> is just a paragraph boundary. Inline elements are opened lazily, when content arrives, so a paragraph
    never starts with a stray empty tag.
    """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.out: list[dict[str, Any]] = []
        self.stack: list[dict[str, Any]] = []  # {"name", "kind": inline|quote|pre|raw|drop, "token", "shown"}
        self.p_open = False
        self.fresh = False  # a paragraph was just opened: leading spaces go
        self.after_br = False  # a typed <br> followed by a line break is one break, not two
        self.newlines = 0
        self.raw = 0
        for token in super().__iter__():
            self._token(token)
            yield from self.out
            self.out.clear()
        self._close_paragraph()
        yield from self.out

    # The inline elements open in the current block (after the innermost blockquote).
    def _inline_run(self) -> list[dict[str, Any]]:
        run: list[dict[str, Any]] = []
        for entry in reversed(self.stack):
            if entry["kind"] == "quote":
                break
            if entry["kind"] == "inline":
                run.append(entry)
        run.reverse()
        return run

    def _close_paragraph(self) -> None:
        for entry in reversed(self._inline_run()):
            if entry["shown"]:
                self.out.append({"type": "EndTag", "name": entry["name"]})
                entry["shown"] = False
        if self.p_open:
            self.out.append({"type": "EndTag", "name": "p"})
            self.p_open = False
        self.newlines = 0

    def _before_content(self) -> None:
        if self.p_open and self.newlines >= 2:
            self._close_paragraph()
        elif self.p_open and self.newlines == 1 and not self.after_br:
            self.out.append({"type": "EmptyTag", "name": "br", "data": {}})
        self.newlines = 0
        self.after_br = False
        if not self.p_open:
            self.out.append({"type": "StartTag", "name": "p", "data": {}})
            self.p_open = True
            self.fresh = True
        for entry in self._inline_run():
            if not entry["shown"]:
                self.out.append(entry["token"])
                entry["shown"] = True

    def _text(self, data: str) -> None:
        for index, part in enumerate(_BREAK_RE.split(data)):
            if not part:
                continue
            if index % 2:  # a run of whitespace with at least one line break
                self.newlines += part.count("\n")
            elif part.strip():
                self._before_content()
                if self.fresh:
                    part = part.lstrip()
                    self.fresh = False
                self.out.append({"type": "Characters", "data": part})
            elif self.p_open and not self.newlines and not self.fresh:
                self.out.append({"type": "SpaceCharacters", "data": part})

    def _token(self, token: dict[str, Any]) -> None:
        kind, name = token["type"], token.get("name")
        if self.raw:
            if kind == "StartTag":
                self.stack.append({"name": name, "kind": "pre" if name == "pre" else "raw"})
                self.raw += name == "pre"
            elif kind == "EndTag" and self.stack:
                self.raw -= self.stack.pop()["kind"] == "pre"
            self.out.append(token)
            return
        if kind in ("Characters", "SpaceCharacters"):
            self._text(token["data"])
        elif kind == "Entity":
            self._before_content()
            self.fresh = False
            self.out.append(token)
        elif kind == "EmptyTag" and name == "br":
            self._before_content()
            self.fresh = False
            self.out.append(token)
            self.after_br = True
        elif kind == "StartTag" and name == "p":
            self.stack.append({"name": name, "kind": "drop"})
            self.newlines = max(self.newlines, 2)
        elif kind == "StartTag" and name in ("blockquote", "pre"):
            self._close_paragraph()
            self.out.append(token)
            self.stack.append({"name": name, "kind": "quote" if name == "blockquote" else "pre"})
            self.raw += name == "pre"
        elif kind == "StartTag":
            self.stack.append({"name": name, "kind": "inline", "token": token, "shown": False})
        elif kind == "EndTag" and self.stack and self.stack[-1]["name"] == name:
            entry = self.stack.pop()
            if entry["kind"] == "drop":
                self.newlines = max(self.newlines, 2)
            elif entry["kind"] == "quote":
                self._close_paragraph()
                self.out.append(token)
            elif entry["shown"]:
                self.out.append(token)
        # Anything else (comments, doctypes, unmatched end tags) has no place in a comment.


# --- reader-typed tags ------------------------------------------------------------------------------------------------

# A tag as a reader might type it. Quoted values may not contain "<", so a scan never runs past the next "<".
_TYPED_ATTR_RE = re.compile(r"""([a-zA-Z][a-zA-Z0-9_:.\-]*)(?:\s*=\s*(?:"([^"<]*)"|'([^'<]*)'|([^\s"'=<>`]+)))?""")
_TYPED_TAG_RE = re.compile(
    r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)
    ((?:\s+[a-zA-Z][a-zA-Z0-9_:.\-]*(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'|[^\s"'=<>`]+))?)*)
    \s*(/?)>""",
    re.VERBOSE,
)


def _typed_start_tag_allowed(name: str, attrs: str) -> bool:
    seen: set[str] = set()
    for attr in _TYPED_ATTR_RE.finditer(attrs):
        attr_name = attr.group(1).lower()
        value = html.unescape(next((v for v in attr.group(2, 3, 4) if v is not None), ""))
        if attr_name in seen:
            return False
        seen.add(attr_name)
        if name == "a" and attr_name == "rel":
            continue  # accepted, and replaced: sanitised output must read back as the same thing
        if not _attribute_allowed(READER_ATTRIBUTES, name, attr_name, value):
            return False
    return True


def _escape_unlisted_tags(text: str) -> str:
    """Escape every "<" that does not begin one of the reader's tags, written exactly, with its allowed attributes.

    A closing tag counts only when a tag of that name was opened before it. The result still goes through both
    sanitisers; this step only decides what is shown as text. Because no other tag reaches the parser, it never
    enters a raw-text state (script, style, textarea, comments), so it reads the surviving tags as this scan did.
    """
    out: list[str] = []
    opened: dict[str, int] = {}
    position = 0
    while (start := text.find("<", position)) != -1:
        match = _TYPED_TAG_RE.match(text, start)
        allowed = False
        if match:
            closing, name, attrs, self_closing = match.group(1), match.group(2).lower(), match.group(3), match.group(4)
            if name not in READER_TAGS or (self_closing and (closing or name != "br")):
                allowed = False
            elif closing:
                allowed = not attrs.strip() and opened.get(name, 0) > 0
                if allowed:
                    opened[name] -= 1
            else:
                allowed = _typed_start_tag_allowed(name, attrs)
                if allowed and name != "br":
                    opened[name] = opened.get(name, 0) + 1
        if allowed:
            out.append(text[position : match.end()])
            position = match.end()
        else:
            out.append(text[position:start] + "&lt;")
            position = start + 1
    out.append(text[position:])
    return "".join(out)


# --- the cleaners, one set per thread (bleach's parser keeps state between calls) --------------------------------


class _Cleaners(threading.local):
    def __init__(self) -> None:
        self.article_bleach = _BleachCleaner(
            tags=ARTICLE_TAGS,
            attributes=partial(_attribute_allowed, ARTICLE_ATTRIBUTES),
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[_ArticleLinksAndImages],
            drop_with_content=ARTICLE_DROP_WITH_CONTENT,
        )
        self.article_nh3 = nh3.Cleaner(
            tags=set(ARTICLE_TAGS),
            clean_content_tags=set(ARTICLE_DROP_WITH_CONTENT),
            # "*" must be given: without it nh3 keeps its default generic attributes (title, lang) on every tag.
            attributes={"*": set(), **{tag: set(names) for tag, names in ARTICLE_ATTRIBUTES.items()}},
            attribute_filter=_nh3_attribute_filter(
                ARTICLE_ATTRIBUTES, frozenset({ARTICLE_LINK_REL, ARTICLE_EXTERNAL_LINK_REL})
            ),
            # rel comes from bleach; nh3 only lets those two values through. link_rel must be None here, or nh3
            # writes a second rel attribute next to the one it kept.
            tag_attribute_values={"a": {"rel": {ARTICLE_LINK_REL, ARTICLE_EXTERNAL_LINK_REL}}},
            link_rel=None,
            url_schemes=set(ALLOWED_PROTOCOLS),
            strip_comments=True,
        )
        self.reader_bleach = _BleachCleaner(
            tags=READER_TAGS,
            attributes=partial(_attribute_allowed, READER_ATTRIBUTES),
            protocols=ALLOWED_PROTOCOLS,
            strip=False,
            strip_comments=True,
            filters=[
                partial(
                    LinkifyFilter,
                    callbacks=[_reader_link],
                    skip_tags={"pre", "code"},
                    parse_email=False,
                    url_re=_LINKIFY_URL_RE,
                ),
                _Paragraphs,
            ],
        )
        self.reader_nh3 = nh3.Cleaner(
            tags=set(READER_TAGS),
            attributes={"*": set(), **{tag: set(names) for tag, names in READER_ATTRIBUTES.items()}},
            attribute_filter=_nh3_attribute_filter(READER_ATTRIBUTES, frozenset({READER_LINK_REL})),
            link_rel=READER_LINK_REL,
            url_schemes=set(ALLOWED_PROTOCOLS),
            strip_comments=True,
        )


_cleaners = _Cleaners()


# --- public API -------------------------------------------------------------------------------------------------------


def sanitize_article_html(html: str) -> str:
    """An editor's article body, reduced to the article allow-list.

    Kept: p, br, h2-h4, ul/ol/li, a (href, title), strong, em, b, i, blockquote (cite), figure, figcaption,
    img (src, alt, width, height), code, pre, hr, sup, sub. Other tags are removed and their text kept, except
    script and style, which go with their content; comments go too. An image's src must be a path on this site
    ("/media/..."): another host would learn who reads the page, and data: is never allowed. width and height are
    whole numbers. Links get rel="noopener", or "noopener noreferrer" when they leave the site.
    """
    cleaners = _cleaners
    return cleaners.article_nh3.clean(cleaners.article_bleach.clean(html))


def sanitize_reader_html(text: str) -> str:
    """A reader's comment, from what they typed to safe HTML.

    The input is plain text. Paragraphs are separated by blank lines; a single line break becomes <br>. Bare
    addresses starting with http://, https:// or www. become links; e-mail addresses stay text.

    Readers may also type these tags: <p>, <br>, <a href="..." title="...">, <strong>, <em>, <b>, <i>,
    <blockquote>, <code>, <pre>. A tag counts only when it is written exactly so, with no other attributes and, for
    a link, an http:, https:, mailto: or relative address. Every other "<" is shown as typed: `<script>` appears as
    the text "<script>", `<em class="x">` and `<a href="javascript:...">` appear as text too, and so does
    "if a<b and c>d". Character references (&amp;, &lt;) are read as HTML. A closing tag with nothing to close is
    dropped. Inside <pre>, text is left as typed; it is not paragraphed or linkified, nor is text in <code>.

    Every link gets rel="nofollow ugc noopener", whatever the input said; a link with no allowed href is reduced to
    its text.
    """
    cleaners = _cleaners
    return cleaners.reader_nh3.clean(cleaners.reader_bleach.clean(_escape_unlisted_tags(text)))


_TEXT_BREAK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure", "footer",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "img", "li", "main", "nav", "ol", "p", "pre", "section",
        "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_TEXT_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg", "math"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _TEXT_SKIP_TAGS:
            self.skipping += 1
        elif tag in _TEXT_BREAK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _TEXT_BREAK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _TEXT_SKIP_TAGS:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in _TEXT_BREAK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def strip_tags_to_text(html: str) -> str:
    """Plain text for excerpts (feeds, meta descriptions): tags removed, whitespace collapsed.

    Block boundaries become spaces, character references are decoded, and the content of script, style and similar
    elements is dropped. The result is text, not HTML: the template or feed that shows it must escape it (Django
    does by default).
    """
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts)
    text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    return " ".join(text.split())
