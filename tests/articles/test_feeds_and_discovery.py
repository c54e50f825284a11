"""RSS 2.0 and Atom feeds, the sitemap and robots.txt."""

import xml.etree.ElementTree as ET

import pytest

from tests.factories import AuthorFactory, DraftArticleFactory, PublishedArticleFactory, SectionFactory

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def test_rss_is_valid_rss_2_with_the_published_articles_only(client):
    PublishedArticleFactory(title="Visible story", authors=[AuthorFactory(name="Dana")])
    DraftArticleFactory(title="Hidden draft")
    response = client.get("/feeds/rss/")
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.attrib["version"] == "2.0"
    channel = root.find("channel")
    for required in ("title", "link", "description"):
        assert channel.find(required) is not None and channel.find(required).text
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Visible story"]
    item = items[0]
    assert item.findtext("link").startswith("http://testserver/news/")
    assert item.findtext("pubDate") and item.findtext("guid")
    assert item.findtext("description") == "What happened, in a sentence."


def test_atom_is_valid_atom_with_ids_and_updated_times(client):
    PublishedArticleFactory(title="Visible story")
    root = ET.fromstring(client.get("/feeds/atom/").content)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    entry = root.find(f"{ATOM}entry")
    for required in ("id", "title", "updated", "link"):
        assert entry.find(f"{ATOM}{required}") is not None
    assert entry.findtext(f"{ATOM}title") == "Visible story"


def test_section_feeds_hold_only_their_section(client):
    mine, other = SectionFactory(slug="mine"), SectionFactory(slug="other")
    PublishedArticleFactory(section=mine, title="In mine")
    PublishedArticleFactory(section=other, title="In other")
    titles = [i.findtext("title") for i in ET.fromstring(client.get("/sections/mine/rss/").content).iter("item")]
    assert titles == ["In mine"]
    assert client.get("/sections/mine/atom/").status_code == 200
    assert client.get("/sections/nope/rss/").status_code == 404


def test_every_page_advertises_the_feeds(client):
    html = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/rss+xml"' in html
    assert '<link rel="alternate" type="application/atom+xml"' in html


def test_sitemap_lists_published_articles_and_sections(client):
    public = PublishedArticleFactory()
    draft = DraftArticleFactory()
    SectionFactory(slug="computers")
    index = client.get("/sitemap.xml").content.decode()
    assert "sitemap-articles.xml" in index and "sitemap-sections.xml" in index
    articles = client.get("/sitemap-articles.xml").content.decode()
    assert public.get_absolute_url() in articles and draft.get_absolute_url() not in articles
    assert "/sections/computers/" in client.get("/sitemap-sections.xml").content.decode()


def test_robots_points_to_the_sitemap(client):
    body = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body
    assert "Disallow: /admin/" in body
