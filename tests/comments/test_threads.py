"""Threads: storage order, display depth, permalinks, sorting, paging by thread, and constant queries."""

import re
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comments.models import Comment, path_segment
from comments.selectors import discussion_page, path_ancestor_ids
from comments.services.writing import comment_create
from tests.comments.factories import discussion_bulk_build, post
from tests.factories import PublishedArticleFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


def _texts(html: str, words: list[str]) -> list[int]:
    return [html.index(word) for word in words]


def test_path_segment_is_fixed_width_base36_and_orders_like_ids():
    assert path_segment(1) == "0000001"
    assert path_segment(36) == "0000010"
    ids = [1, 9, 10, 35, 36, 1295, 1296, 99999]
    assert sorted(ids, key=path_segment) == ids
    assert path_ancestor_ids(path_segment(5) + path_segment(77) + path_segment(80)) == [5, 77]


def test_replies_show_under_their_parent_in_display_order(client, article):
    first = post(article=article, text="First thread")
    second = post(article=article, text="Second thread")
    reply = post(parent=first, text="Reply to first")
    deeper = post(parent=reply, text="Reply to the reply")
    post(parent=first, text="Later reply to first")
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    positions = _texts(
        html, ["First thread", "Reply to first", "Reply to the reply", "Later reply to first", "Second thread"]
    )
    assert positions == sorted(positions)
    assert deeper.path == first.path + path_segment(reply.pk) + path_segment(deeper.pk)
    assert deeper.root_id == first.pk and deeper.depth == 2
    assert second.root_id == second.pk


@pytest.mark.django_db(transaction=True)
def test_simultaneous_replies_to_one_comment_get_distinct_paths(settings):
    # Set once, before the threads: override_settings (which post() uses) swaps a process-wide object and is not
    # thread-safe, so the threads call the service directly.
    settings.VIGIL_COMMENTS_HOLD_FIRST = 0
    parent = post(text="Parent")
    authors = [VerifiedUserFactory() for _ in range(4)]
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def reply(n):
        try:
            barrier.wait()
            comment_create(
                article=parent.article, author=authors[n], text=f"Reply {n}", parent=Comment.objects.get(pk=parent.pk)
            )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=reply, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    replies = list(Comment.objects.filter(parent=parent))
    assert len({r.path for r in replies}) == 4
    assert all(r.path.startswith(parent.path) and len(r.path) == 14 for r in replies)
    parent.refresh_from_db()
    assert parent.thread_reply_count == 4


def test_deep_replies_show_at_the_cap_in_reply_to_name(client, settings, article):
    settings.VIGIL_COMMENTS_DISPLAY_DEPTH = 3
    names = ["Ana", "Ben", "Cy", "Dee", "Eli", "Fay"]
    comment = None
    for name in names:
        comment = post(
            article=article, parent=comment, author=VerifiedUserFactory(display_name=name), text=f"By {name}"
        )
    page = discussion_page(article=article, viewer=_anon(), page_number=1)
    depths = [item.display_depth for item in page.comments]
    assert depths == [0, 1, 2, 3, 3, 3]
    capped = page.comments[-1]
    assert capped.at_depth_cap and capped.in_reply_to_name == "Eli"
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert 'class="comment__reply-to">in reply to <a href="#c' in html  # shown, not visually hidden, at the cap


def _anon():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_permalink_page_shows_the_comment_with_its_context(client, article):
    root = post(article=article, text="The opening argument")
    middle = post(parent=root, text="A counterpoint")
    target = post(parent=middle, text="The linked comment")
    below = post(parent=target, text="An answer to it")
    post(article=article, text="Unrelated thread")
    response = client.get(f"/comments/{target.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("The opening argument", "A counterpoint", "The linked comment", "An answer to it"):
        assert text in html
    assert "Unrelated thread" not in html
    assert f'id="c{target.pk}"' in html and "comment--target" in html
    assert f"/comments/{below.pk}/#c{below.pk}" in html


def test_sort_orders(client, article):
    quiet = post(article=article, text="Quiet thread")
    busy = post(article=article, text="Busy thread")
    post(parent=busy, text="r1")
    post(parent=busy, text="r2")
    newest = post(article=article, text="Newest thread")
    url = f"/news/{article.slug}/discussion/"

    def order(sort):
        return [
            item.comment.pk
            for item in discussion_page(article=article, viewer=_anon(), sort=sort).comments
            if not item.comment.parent_id
        ]

    assert order("oldest") == [quiet.pk, busy.pk, newest.pk]
    assert order("newest") == [newest.pk, busy.pk, quiet.pk]
    assert order("replies") == [busy.pk, newest.pk, quiet.pk]
    assert client.get(url + "?sort=replies").status_code == 200
    assert client.get(url + "?sort=nonsense").status_code == 200


def test_large_discussions_page_by_top_level_thread(client, settings, article):
    settings.VIGIL_COMMENTS_THREADS_PER_PAGE = 2
    threads = [post(article=article, text=f"Thread number {n}") for n in range(5)]
    post(parent=threads[0], text="Reply stays with its thread")
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Thread number 0" in html and "Thread number 1" in html and "Thread number 2" not in html
    assert "Reply stays with its thread" in html
    page3 = client.get(f"/news/{article.slug}/discussion/?page=3").content.decode()
    assert "Thread number 4" in page3 and "Thread number 0" not in page3


def _count_queries(client, url):
    client.get(url)  # what stays cached between pages (the header's sections) is in place, as in a running site
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), response


def test_discussion_renders_in_constant_queries_up_to_2000_comments_in_200_threads(client, settings):
    settings.VIGIL_COMMENTS_THREADS_PER_PAGE = 200  # the whole discussion on one page: the hardest case
    settings.VIGIL_PAGE_CACHE = False  # count the queries of rendering it, not of serving a cached copy
    authors = [VerifiedUserFactory() for _ in range(5)]
    small = PublishedArticleFactory()
    discussion_bulk_build(article=small, authors=authors, threads=3, per_thread=3, max_depth=2)
    big = PublishedArticleFactory()
    made = discussion_bulk_build(article=big, authors=authors, threads=200, per_thread=10, max_depth=8)
    assert made == 2000
    assert Comment.objects.filter(article=big, depth=8).exists()
    few, _ = _count_queries(client, f"/news/{small.slug}/discussion/")
    many, response = _count_queries(client, f"/news/{big.slug}/discussion/")
    assert few == many <= 5
    assert response.content.decode().count('class="comment ') == 2000
    # signed in (session, user, eligibility, the viewer's flags) it stays constant too
    client.force_login(authors[0])
    few_in, _ = _count_queries(client, f"/news/{small.slug}/discussion/")
    many_in, _ = _count_queries(client, f"/news/{big.slug}/discussion/")
    assert few_in == many_in <= 13


def test_comment_counts_show_on_article_pages_and_lists_without_a_query_per_article(client, article):
    post(article=article)
    post(article=article)
    article.refresh_from_db()
    assert article.comment_count == 2
    assert "2 comments" in client.get(article.get_absolute_url()).content.decode()
    assert "2 comments" in client.get("/news/").content.decode()


def test_comments_by_moderators_and_editors_carry_a_staff_badge_and_readers_do_not(client, article, reader, moderator):
    from accounts.roles import EDITORS
    from tests.factories import staff_user

    editor = staff_user(EDITORS)
    editor.display_name = "The editor"
    editor.save()
    post(article=article, author=reader, text="A reader's view.")
    post(article=article, author=moderator, text="Please keep it civil.")
    post(article=article, author=editor, text="We have corrected the article.")
    page = client.get(reverse("comments:discussion", args=[article.slug])).content.decode()
    badges = re.findall(r'comment__author"[^>]*>([^<]+)</span>(?: <span class="comment__badge">([^<]+)</span>)?', page)
    assert (reader.public_name, "") in badges
    assert (moderator.public_name, "Moderator") in badges and ("The editor", "Editor") in badges
