"""Full-text search on PostgreSQL: ranked, highlighted, paginated, and calm about odd input."""

import pytest

from articles.services.publishing import article_save
from tests.factories import DraftArticleFactory, PublishedArticleFactory

pytestmark = pytest.mark.django_db


def _article(title: str, standfirst: str, body: str, **kwargs):
    article = PublishedArticleFactory(title=title, standfirst=standfirst, body=body, **kwargs)
    return article_save(article=article)


def test_finds_an_article_by_a_word_of_its_body_with_the_word_highlighted(client):
    _article("Council budget", "Money matters.", "<p>The council discussed biometric surveillance at length.</p>")
    response = client.get("/search/", {"q": "biometric"})
    html = response.content.decode()
    assert "Council budget" in html
    assert "<mark>biometric</mark>" in html
    assert "1 result" in html


def test_title_matches_rank_above_body_matches(client):
    _article("Nothing here", "Nothing.", "<p>Mentions cameras once.</p>", slug="body-match")
    _article("Cameras in the city", "About cameras.", "<p>Unrelated.</p>", slug="title-match")
    html = client.get("/search/", {"q": "cameras"}).content.decode()
    assert html.index("Cameras in the city") < html.index("Nothing here")


def test_drafts_are_never_found(client):
    draft = DraftArticleFactory(title="Unreleased scoop", body="<p>scoop</p>")
    article_save(article=draft)
    assert "Unreleased scoop" not in client.get("/search/", {"q": "scoop"}).content.decode()


def test_stored_text_cannot_inject_markup_through_the_snippet(client):
    _article("Escaping", "x", "<p>The tag &lt;script&gt;alert(1)&lt;/script&gt; mentions surveillance.</p>")
    html = client.get("/search/", {"q": "surveillance"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<mark>surveillance</mark>" in html


@pytest.mark.parametrize(
    "query",
    ['"face recognition"', "face OR police", "police -face", "&|!():*<>'\\", "a" * 10_000, "\x00\x07", "   "],
)
def test_quotes_operators_and_huge_queries_are_answered_politely(client, query):
    _article("Face recognition", "Police use it.", "<p>Face recognition and the police.</p>")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200


def test_phrase_search_and_exclusion_work(client):
    _article("Face recognition sold", "x", "<p>face recognition</p>", slug="a")
    _article("Recognition of faces", "x", "<p>police recognition of faces</p>", slug="b")
    phrase = client.get("/search/", {"q": '"face recognition"'}).content.decode()
    assert "Face recognition sold" in phrase and "Recognition of faces" not in phrase
    excluded = client.get("/search/", {"q": "recognition -police"}).content.decode()
    assert "Face recognition sold" in excluded and "Recognition of faces" not in excluded


def test_a_very_long_query_is_cut_and_the_reader_is_told(client):
    html = client.get("/search/", {"q": "word " * 2000}).content.decode()
    assert "only its first 200 characters were used" in html


def test_search_results_page(client):
    for n in range(25):
        _article(f"Privacy story {n}", "x", "<p>privacy</p>", slug=f"privacy-{n}")
    html = client.get("/search/", {"q": "privacy", "page": 2}).content.decode()
    assert "Page 2 of 2" in html and "25 results" in html
    assert 'href="?q=privacy&amp;page=1"' in html


def test_search_form_is_in_the_header_with_a_label(client):
    html = client.get("/").content.decode()
    assert 'role="search"' in html and '<label for="site-search-q"' in html


def test_search_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    for n in range(3):
        _article(f"Privacy story {n}", "x", "<p>privacy</p>", slug=f"few-{n}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/search/", {"q": "privacy"})  # the header's sections are cached from here on, as in a running site
    with CaptureQueriesContext(connection) as few:
        client.get("/search/", {"q": "privacy"})
    for n in range(30):
        _article(f"Privacy story {n}", "x", "<p>privacy</p>", slug=f"many-{n}")
    client.get("/search/", {"q": "privacy"})  # the 30 new sections are in the header's cache again
    with CaptureQueriesContext(connection) as many:
        client.get("/search/", {"q": "privacy"})
    assert len(few.captured_queries) == len(many.captured_queries) <= 8
