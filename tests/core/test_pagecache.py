"""The shared page cache (core.pagecache): what anonymous visitors get from it, what never goes into it, and how
soon a change reaches the pages."""

import re
import threading
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import MODERATORS
from articles.services.publishing import article_save
from comments.services.moderation import comment_remove, moderation_action_reverse
from core import pagecache
from deliverables.models import SignOnState
from deliverables.services.signons import signon_review
from petitions.services.editing import petition_save
from petitions.services.lifecycle import petition_close
from signatures.services.signing import signature_confirm_token
from tests.comments.factories import post
from tests.deliverables.factories import OpenLetterFactory, SignOnFactory, organiser_of
from tests.factories import PublishedArticleFactory, SectionFactory, VerifiedUserFactory, staff_user
from tests.petitions.factories import OpenPetitionFactory, PendingSignatureFactory
from tests.signatures.helpers import form_data

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _stored_pages() -> list[bytes]:
    """Every page copy in the cache's Redis database, raw (pickled) as it sits there."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    return [client.get(key) for key in client.scan_iter("*pagecache:page:*") if not key.endswith(b":lock")]


def _queries(client, url, **headers):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, **headers)
    return response, len(context.captured_queries)


def test_a_second_visitor_gets_the_stored_copy_without_a_query_and_with_a_token_of_their_own():
    petition = OpenPetitionFactory()
    first, built = _queries(Client(), petition.get_absolute_url())
    second_client = Client()
    second, served = _queries(second_client, petition.get_absolute_url())
    assert first.status_code == second.status_code == 200
    assert built > 0 and served == 0
    first_token, second_token = TOKEN.search(first.content.decode())[1], TOKEN.search(second.content.decode())[1]
    assert first_token != second_token
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    # Apart from the token, both got the same page.
    assert TOKEN.sub("", first.content.decode()) == TOKEN.sub("", second.content.decode())
    # The token in the cached page works for its own visitor, as a rendered one would.
    signed = Client(enforce_csrf_checks=True)
    signed.cookies = second_client.cookies
    response = signed.post(f"/petitions/{petition.slug}/sign/", form_data(csrfmiddlewaretoken=second_token))
    assert response.status_code == 303


def test_no_visitor_value_is_stored_and_each_visitor_gets_their_own():
    petition = OpenPetitionFactory()
    url = petition.get_absolute_url()
    Client().get(url + "?utm_source=alice-newsletter&fbclid=alice-click", HTTP_REFERER="https://alice.example/p")
    [stored] = _stored_pages()
    for personal in (b"alice", b'csrfmiddlewaretoken" value="' + b"x"):
        assert personal not in stored
    assert TOKEN.search(stored.decode("latin-1")) is None or "vigilhole" in TOKEN.search(stored.decode("latin-1"))[1]

    bob = Client().get(url + "?utm_source=bob-list", HTTP_REFERER="https://bob.example/<script>").content.decode()
    assert 'name="utm_source" value="bob-list"' in bob
    assert 'value="https://bob.example/&lt;script&gt;"' in bob
    assert "alice" not in bob and "vigilhole" not in bob
    assert len(_stored_pages()) == 1  # click ids and campaign tags do not make new copies


def test_a_signed_in_request_never_populates_the_cache_nor_gets_the_shared_copy(client):
    article = PublishedArticleFactory()
    reader = VerifiedUserFactory(display_name="Robin Reader")
    client.force_login(reader)
    page = client.get(article.get_absolute_url())
    assert page.status_code == 200 and "Robin Reader" in page.content.decode()
    assert _stored_pages() == []
    assert "private" in page["Cache-Control"] and "Cookie" in page["Vary"]

    Client().get(article.get_absolute_url())  # an anonymous visit stores the copy
    assert len(_stored_pages()) == 1
    again = client.get(article.get_absolute_url()).content.decode()
    assert "Robin Reader" in again and "Sign out" in again
    assert "Robin Reader" not in Client().get(article.get_absolute_url()).content.decode()


def test_pages_are_keyed_by_the_query_that_chooses_them_and_odd_values_are_rendered_apart():
    article = PublishedArticleFactory()
    url = f"/news/{article.slug}/discussion/"
    client = Client()
    client.get(url)
    client.get(url + "?sort=newest")
    client.get(url + "?sort=newest&utm_campaign=x")
    assert len(_stored_pages()) == 2
    response = client.get(url + "?sort=<script>&page=99999999")
    assert response.status_code == 200 and "private" in response["Cache-Control"]
    assert len(_stored_pages()) == 2


def test_an_edit_reaches_the_page_at_once():
    article = PublishedArticleFactory(title="Cameras on every corner")
    client = Client()
    assert "Cameras on every corner" in client.get(article.get_absolute_url()).content.decode()
    article.title = "Cameras on some corners"
    article_save(article=article)
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Cameras on some corners" in page and "Cameras on every corner" not in page


def test_a_publish_reaches_the_front_page_at_once():
    PublishedArticleFactory(title="An older story")
    client = Client()
    assert "An older story" in client.get("/").content.decode()
    PublishedArticleFactory(title="Breaking: the ban passes")  # the admin saves the article the same way
    assert "Breaking: the ban passes" in client.get("/").content.decode()


def test_a_removed_comment_leaves_the_discussion_at_once_and_a_reversal_brings_it_back():
    article = PublishedArticleFactory()
    comment = post(article=article, text="An abusive remark about a neighbour")
    url = f"/news/{article.slug}/discussion/"
    client = Client()
    assert "An abusive remark" in client.get(url).content.decode()
    moderator = staff_user(MODERATORS)
    action = comment_remove(comment=comment, actor=moderator, reason="Abuse")
    assert "An abusive remark" not in client.get(url).content.decode()
    moderation_action_reverse(action=action, actor=moderator, reason="A mistake")
    assert "An abusive remark" in client.get(url).content.decode()


def test_a_closed_petition_is_never_offered_with_its_form_from_the_cache():
    petition = OpenPetitionFactory()
    client = Client()
    assert f'action="/petitions/{petition.slug}/sign/"' in client.get(petition.get_absolute_url()).content.decode()
    petition_close(petition=petition)
    page = client.get(petition.get_absolute_url()).content.decode()
    assert "Signing is closed" in page and "/sign/" not in page


def test_a_copy_with_the_form_is_not_served_after_the_closing_time(settings):
    settings.VIGIL_PAGE_CACHE_LIVE_SECONDS = 60  # the copy itself would still count as fresh
    petition = OpenPetitionFactory(closes_at=timezone.now() + timezone.timedelta(seconds=1))
    client = Client()
    assert "/sign/" in client.get(petition.get_absolute_url()).content.decode()
    time.sleep(1.2)  # no one closed it: only the clock did
    page = client.get(petition.get_absolute_url()).content.decode()
    assert "/sign/" not in page and "Signing is closed" in page


def test_a_verified_sign_on_reaches_the_letter_page_at_once():
    petition = OpenPetitionFactory()
    letter = OpenLetterFactory(petition=petition)
    signon = SignOnFactory(letter=letter, name="Digital Rights Collective", state=SignOnState.CONFIRMED)
    url = f"/petitions/{petition.slug}/letters/{letter.slug}/"
    client = Client()
    assert "Digital Rights Collective" not in client.get(url).content.decode()
    signon_review(signon=signon, verify=True, by=organiser_of(petition))
    assert "Digital Rights Collective" in client.get(url).content.decode()


def test_out_of_date_by_age_serves_the_previous_copy_while_another_request_rebuilds(settings):
    settings.VIGIL_PAGE_CACHE_LIVE_SECONDS = 0.2
    article = PublishedArticleFactory(title="Before")
    client = Client()
    client.get(article.get_absolute_url())
    time.sleep(0.3)
    [key] = list(redis.Redis.from_url(settings.REDIS_URL).scan_iter("*pagecache:page:*"))
    lock = key.decode().split(":", 2)[2] + ":lock"  # the cache's own key, without its prefix and version
    assert cache.add(lock, 1, timeout=10)  # another request is rebuilding it
    response, queries = _queries(client, article.get_absolute_url())
    assert response.status_code == 200 and queries == 0
    cache.delete(lock)
    response, queries = _queries(client, article.get_absolute_url())  # now this request rebuilds it
    assert queries > 0


def test_out_of_date_by_an_edit_is_never_served_even_while_another_request_rebuilds(settings):
    settings.VIGIL_PAGE_CACHE_WAIT_SECONDS = 0.1
    article = PublishedArticleFactory(title="Before the correction")
    client = Client()
    client.get(article.get_absolute_url())
    [key] = list(redis.Redis.from_url(settings.REDIS_URL).scan_iter("*pagecache:page:*"))
    cache.add(key.decode().split(":", 2)[2] + ":lock", 1, timeout=10)
    article.title = "After the correction"
    article_save(article=article)
    page = client.get(article.get_absolute_url()).content.decode()
    assert "After the correction" in page and "Before the correction" not in page


def test_conditional_get_and_the_headers_a_proxy_reads():
    article = PublishedArticleFactory()
    petition = OpenPetitionFactory()
    client = Client()
    page = client.get(article.get_absolute_url())
    assert page["Cache-Control"] == f"public, max-age=0, s-maxage={min(settings.VIGIL_PAGE_CACHE_PROXY_SECONDS, 1)}"
    assert page["Vary"] == "Cookie" and page["ETag"] and page["Last-Modified"]
    assert client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304
    assert client.get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=page["Last-Modified"]).status_code == 304

    form_page = client.get(petition.get_absolute_url())
    assert form_page["Cache-Control"] == "private, no-cache"
    # The same visitor (same CSRF cookie) may keep their copy; another visitor's ETag does not match.
    assert client.get(petition.get_absolute_url(), HTTP_IF_NONE_MATCH=form_page["ETag"]).status_code == 304
    other = Client().get(petition.get_absolute_url(), HTTP_IF_NONE_MATCH=form_page["ETag"])
    assert other.status_code == 200


def test_confirmation_pages_share_their_html_but_not_the_token_or_the_withdrawal_link():
    petition = OpenPetitionFactory()
    ann, bea = PendingSignatureFactory(petition=petition), PendingSignatureFactory(petition=petition)
    pages = {}
    for signature in (ann, bea):
        client = Client()
        path = f"/petitions/confirm/{signature_confirm_token(signature=signature)}/"
        assert b"Yes, confirm my signature" in client.get(path).content
        pages[signature.pk] = client.post(path).content.decode()
        signature.refresh_from_db()
        assert signature.state == "confirmed"
    for signature in (ann, bea):
        import re

        from signatures.services.signing import signature_for_withdraw_token

        [token] = re.findall(r"/petitions/withdraw/([^/\"]+)/", pages[signature.pk])
        assert signature_for_withdraw_token(token=token).pk == signature.pk  # the page's link is this signer's own
        assert "vigilhole" not in pages[signature.pk]
    assert pages[ann.pk] != pages[bea.pk]


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }  # fmt: skip
)
def test_pages_are_rendered_for_each_visitor_when_the_cache_is_down():
    article = PublishedArticleFactory(title="Still readable")
    petition = OpenPetitionFactory()
    assert "Still readable" in Client().get(article.get_absolute_url()).content.decode()
    page = Client().get(petition.get_absolute_url())
    assert page.status_code == 200 and TOKEN.search(page.content.decode())
    assert "vigilhole" not in page.content.decode()


def test_holes_cannot_be_written_by_content():
    """A marker is keyed on SECRET_KEY: an author who wrote one into an article would need the key."""
    marker = pagecache._marker("csrf")
    assert re.fullmatch(r"vigilhole[0-9a-f]{24}", marker)
    with override_settings(SECRET_KEY="another-key-entirely-0123456789abcdefghijklmnopqrstuvwxyz"):
        pagecache._marker.cache_clear()
        assert pagecache._marker("csrf") != marker
    pagecache._marker.cache_clear()


@pytest.mark.parametrize("kind", ["petition", "article", "discussion", "home"])
def test_a_page_from_the_cache_is_the_page_rendered_for_the_visitor(kind, settings):
    petition = OpenPetitionFactory()
    article = PublishedArticleFactory(related_petition=petition)
    post(article=article, text="A first comment")
    url = {
        "petition": petition.get_absolute_url() + "?utm_source=list&utm_medium=mail",
        "article": article.get_absolute_url(),
        "discussion": f"/news/{article.slug}/discussion/",
        "home": "/",
    }[kind]
    headers = {"HTTP_REFERER": "https://news.example.net/a?b=1&c=<2>"}
    Client().get(url, **headers)  # stores the copy
    cached = Client().get(url, **headers)
    settings.VIGIL_PAGE_CACHE = False
    rendered = Client().get(url, **headers)
    assert TOKEN.sub("", cached.content.decode()) == TOKEN.sub("", rendered.content.decode())


def _concurrent_visits(url: str, visitors: int) -> tuple[list[int], int]:
    """`visitors` anonymous requests at once, each on its own thread and database connection; their statuses and
    how many times the story's template was rendered meanwhile."""
    renders = []

    def rendered(sender, template, **kwargs):
        if template.name == "articles/article_detail.html":
            renders.append(1)

    statuses = []
    barrier = threading.Barrier(visitors)

    def visit():
        try:
            barrier.wait()
            statuses.append(Client().get(url).status_code)
        finally:
            connection.close()

    template_rendered.connect(rendered)
    try:
        threads = [threading.Thread(target=visit) for _ in range(visitors)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        template_rendered.disconnect(rendered)
    return statuses, len(renders)


@pytest.mark.django_db(transaction=True)
def test_many_visitors_at_a_copy_out_of_date_by_age_cause_one_rebuild(settings):
    settings.VIGIL_PAGE_CACHE_LIVE_SECONDS = 1.0  # long enough that the rebuilt copy is fresh for every visitor
    article = PublishedArticleFactory()
    Client().get(article.get_absolute_url())
    time.sleep(1.1)
    statuses, renders = _concurrent_visits(article.get_absolute_url(), 8)
    assert statuses == [200] * 8
    assert renders == 1


@pytest.mark.django_db(transaction=True)
def test_many_visitors_at_a_copy_out_of_date_by_an_edit_wait_for_one_rebuild():
    article = PublishedArticleFactory(title="Before the correction")
    Client().get(article.get_absolute_url())
    article.title = "After the correction"
    article_save(article=article)
    statuses, renders = _concurrent_visits(article.get_absolute_url(), 8)
    assert statuses == [200] * 8
    assert renders == 1
    assert "After the correction" in Client().get(article.get_absolute_url()).content.decode()


def test_a_new_section_reaches_the_header_of_every_page_at_once():
    PublishedArticleFactory()
    client = Client()
    assert "Surveillance desk" not in client.get("/").content.decode()
    SectionFactory(name="Surveillance desk")
    assert "Surveillance desk" in client.get("/").content.decode()


def test_an_organisers_edit_of_the_petition_reaches_its_page_at_once():
    petition = OpenPetitionFactory(ask="Stop selling face recognition.")
    client = Client()
    assert "Stop selling face recognition." in client.get(petition.get_absolute_url()).content.decode()
    petition.ask = "Stop selling face recognition to any police force."
    petition_save(petition=petition)
    assert "to any police force" in client.get(petition.get_absolute_url()).content.decode()
