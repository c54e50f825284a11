"""The reader's pages: content, pagination, and a number of queries that does not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    ArticleImageFactory,
    AuthorFactory,
    PublishedArticleFactory,
    SectionFactory,
    image_upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _render_every_time(settings):
    """These tests count the queries of rendering a page; a copy from the page cache makes none (see
    tests/core/test_pagecache.py)."""
    settings.VIGIL_PAGE_CACHE = False


def _queries(client, url: str) -> int:
    client.get(url)  # what stays cached between pages (the header's sections) is in place, as in a running site
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def _populate(count: int, section, author):
    for _ in range(count):
        article = PublishedArticleFactory(section=section, authors=[author])
        ArticleImageFactory(article=article)
        ArticleImageFactory(article=article)


@pytest.mark.parametrize("page", ["home", "list", "section", "author"])
def test_list_pages_use_a_constant_number_of_queries(client, page):
    section, author = SectionFactory(slug="computers"), AuthorFactory(slug="dana")
    urls = {"home": "/", "list": "/news/", "section": "/sections/computers/", "author": "/authors/dana/"}
    _populate(2, section, author)
    few = _queries(client, urls[page])
    _populate(25, section, author)
    many = _queries(client, urls[page])
    assert few == many
    assert many <= 6


def test_article_page_uses_a_constant_number_of_queries(client):
    article = PublishedArticleFactory(authors=[AuthorFactory(), AuthorFactory()])
    ArticleImageFactory(article=article)
    few = _queries(client, article.get_absolute_url())
    for _ in range(5):
        ArticleImageFactory(article=article)
    article.authors.add(AuthorFactory())
    assert _queries(client, article.get_absolute_url()) == few
    assert few <= 5


def test_article_page_shows_byline_source_gallery_link_and_sizes(client):
    author = AuthorFactory(name="Dana Whitfield")
    article = PublishedArticleFactory(
        title="Cameras everywhere", source_name="City records", source_url="https://records.example/x", authors=[author]
    )
    lead = ArticleImageFactory(article=article, caption="Cameras on a pole", credit="Photo: Vigil", position=0)
    ArticleImageFactory(article=article, position=1)
    ArticleImageFactory(article=article, position=2)
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Cameras everywhere" in html and "Dana Whitfield" in html
    assert 'Source: <a href="https://records.example/x" rel="noopener">City records</a>' in html
    assert "View 3 images" in html
    assert f'width="{lead.width}" height="{lead.height}"' in html
    assert f'alt="{lead.alt_text}"' in html
    assert '<link rel="canonical" href="http://testserver/news/' in html
    assert '<meta property="og:title" content="Cameras everywhere">' in html


def test_renditions_are_offered_in_srcset_once_they_exist(client):
    from articles.services.images import article_image_render

    image = ArticleImageFactory(image=image_upload(size=(1400, 900)))
    article_image_render(image_id=image.pk)
    html = client.get(image.article.get_absolute_url()).content.decode()
    assert '<source type="image/webp" srcset="' in html
    assert "-640w.webp 640w" in html and "-640w.jpg 640w" in html


def test_gallery_lists_every_image_with_caption_credit_and_navigation(client):
    article = PublishedArticleFactory()
    for n in range(3):
        ArticleImageFactory(article=article, caption=f"Caption {n}", credit=f"Credit {n}", position=n)
    response = client.get(f"/news/{article.slug}/gallery/")
    html = response.content.decode()
    assert all(f"Caption {n}" in html and f"Credit {n}" in html for n in range(3))
    assert 'href="#image-2" data-gallery-next' in html
    assert "js/gallery.js" in html


def test_pagination_splits_long_lists(client):
    section = SectionFactory(slug="busy")
    for _ in range(23):
        PublishedArticleFactory(section=section)
    first = client.get("/sections/busy/").content.decode()
    second = client.get("/sections/busy/?page=2").content.decode()
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert second.count('class="article-card') == 3
    assert client.get("/sections/busy/?page=banana").status_code == 200  # nonsense page numbers show page 1


def test_empty_states_say_so(client):
    SectionFactory(slug="quiet")
    assert "No stories have been published yet." in client.get("/").content.decode()
    assert "Nothing has been published in this section yet." in client.get("/sections/quiet/").content.decode()


def test_sections_appear_in_the_header(client):
    SectionFactory(name="Computers", slug="computers")
    assert '<a href="/sections/computers/">Computers</a>' in client.get("/").content.decode()


def test_unknown_section_or_article_is_404(client):
    assert client.get("/sections/nope/").status_code == 404
    assert client.get("/news/nope/").status_code == 404
