"""The pipeline of checks every comment passes: each step holds what it should and lets through what it must not
catch, records its name for moderators and its reason for the author, and runs again on an edit."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from comments.models import Comment, CommentState
from comments.services.moderation import comment_remove
from comments.services.pipeline import STEPS, text_fingerprint
from comments.services.writing import comment_create, comment_edit
from tests.comments.factories import post
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_first_comment_hold(settings):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 0  # each test turns on the step it is about


def _state(comment):
    return comment.state, comment.held_by_step


def test_every_step_named_in_the_settings_exists(settings):
    assert set(settings.VIGIL_COMMENTS_PIPELINE) <= set(STEPS)


def test_a_link_from_an_account_new_to_the_discussion_is_held_and_one_from_an_established_account_is_not(
    article, reader, other_reader
):
    held = comment_create(article=article, author=reader, text="Read https://spam.example/offer now")
    assert _state(held) == (CommentState.HELD, "links") and "Links from accounts new" in held.state_reason
    assert _state(comment_create(article=article, author=reader, text="No link in this one.")) == (
        CommentState.VISIBLE, "")  # fmt: skip
    for n in range(2):
        post(article=article, author=other_reader, text=f"Earlier comment number {n}, without a link.")
    seasoned = comment_create(article=article, author=other_reader, text="The report: www.example.org/report")
    assert _state(seasoned) == (CommentState.VISIBLE, "")


def test_the_same_words_twice_from_one_account_or_from_several_accounts_are_held(article, reader, settings):
    text = "This company must stop selling face recognition to the police!"
    first = comment_create(article=article, author=reader, text=text)
    again = comment_create(article=article, author=reader, text="  this COMPANY must stop selling face-recognition "
                                                                  "to the police  ")  # fmt: skip
    assert _state(first) == (CommentState.VISIBLE, "")
    assert _state(again) == (CommentState.HELD, "repeats") and "same words" in again.state_reason
    assert text_fingerprint(text) == again.fingerprint
    # Short replies repeat naturally and are not held.
    assert comment_create(article=article, author=reader, text="Agreed.").state == CommentState.VISIBLE
    assert comment_create(article=article, author=reader, text="Agreed!").state == CommentState.VISIBLE

    others = [VerifiedUserFactory() for _ in range(3)]
    slogan = "Copy and paste this message into every discussion you can find."
    assert comment_create(article=article, author=others[0], text=slogan).state == CommentState.VISIBLE
    assert comment_create(article=article, author=others[1], text=slogan).state == CommentState.VISIBLE
    third = comment_create(article=article, author=others[2], text=slogan)
    assert _state(third) == (CommentState.HELD, "repeats") and "several accounts" in third.state_reason


def test_repeats_outside_the_window_are_not_held(article, reader, settings):
    text = "I wrote to my representative about this last week."
    earlier = comment_create(article=article, author=reader, text=text)
    Comment.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(hours=3))
    assert comment_create(article=article, author=reader, text=text).state == CommentState.VISIBLE


def test_an_account_whose_recent_comments_were_often_removed_is_checked_again(article, reader, moderator):
    comments = [post(article=article, author=reader, text=f"Comment number {n} of a troublesome account") for n in
                range(4)]  # fmt: skip
    for comment in comments[:2]:
        comment_remove(comment=comment, actor=moderator, reason="Abuse")
    held = comment_create(article=article, author=reader, text="Something new to say about the article.")
    assert _state(held) == (CommentState.HELD, "standing") and "recent comments were removed" in held.state_reason


def test_a_trusted_account_skips_the_first_comments_hold(article, reader, other_reader, settings):
    for n in range(3):
        post(article=article, author=reader, text=f"A fair point number {n}, well made.")
    settings.VIGIL_COMMENTS_HOLD_FIRST = 10
    assert comment_create(article=article, author=reader, text="Trusted now.").state == CommentState.VISIBLE
    newcomer = comment_create(article=article, author=other_reader, text="My first words here.")
    assert _state(newcomer) == (CommentState.HELD, "new_account")


def test_an_edit_goes_through_the_pipeline_again_and_the_queue_names_the_step(client, article, reader, moderator):
    comment = comment_create(article=article, author=reader, text="A plain comment.")
    assert comment.state == CommentState.VISIBLE
    edited = comment_edit(comment=comment, user=reader, text="A plain comment. Buy at https://spam.example/")
    assert _state(edited) == (CommentState.HELD, "links")
    client.force_login(moderator)
    queue = client.get(reverse("comments:moderation_queue") + "?tab=held").content.decode()
    assert "Held by the “links” check." in queue and "Links from accounts new" in queue


def test_a_step_left_out_of_the_settings_holds_nothing(article, reader, settings):
    settings.VIGIL_COMMENTS_PIPELINE = ["watch_words", "repeats"]
    assert comment_create(article=article, author=reader, text="See https://example.org/").state == CommentState.VISIBLE


class _Moderator(BaseHTTPRequestHandler):
    """An outside moderation service on 127.0.0.1: answers as the test tells it, after checking the signature."""

    answer: bytes = b'{"hold": false}'
    delay = 0.0
    seen: list = []  # noqa: RUF012 (the test's record of requests)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        fields = dict(part.split("=", 1) for part in self.headers["Vigil-Signature"].split(","))
        expected = hmac.new(b"hook-secret", fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        type(self).seen.append((json.loads(body), hmac.compare_digest(expected, fields["v1"])))
        time.sleep(self.delay)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def hook(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Moderator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.VIGIL_COMMENTS_HOOK_URL = f"http://127.0.0.1:{server.server_address[1]}/check"
    settings.VIGIL_COMMENTS_HOOK_SECRET = "hook-secret"
    settings.VIGIL_COMMENTS_HOOK_TIMEOUT_MS = 500
    _Moderator.answer, _Moderator.delay, _Moderator.seen = b'{"hold": false}', 0.0, []
    yield _Moderator
    server.shutdown()


def test_the_outside_service_is_asked_with_a_signed_request_and_may_hold_with_its_reason(article, reader, hook):
    fine = comment_create(article=article, author=reader, text="A calm and reasonable comment.")
    assert fine.state == CommentState.VISIBLE
    ((sent, signed),) = hook.seen
    assert signed and sent["text"] == "A calm and reasonable comment." and sent["edit"] is False
    assert str(reader.pk) not in sent["author"] and reader.email not in json.dumps(sent)  # an opaque id only
    hook.answer = b'{"hold": true, "reason": "Looks like an insult."}'
    held = comment_create(article=article, author=reader, text="Something the service dislikes.")
    assert _state(held) == (CommentState.HELD, "hook") and held.state_reason == "Looks like an insult."


@pytest.mark.parametrize("answer, delay", [(b'{"hold": false}', 1.5), (b"not json", 0), (b'{"hold": "no"}', 0)])
def test_a_slow_broken_or_unreadable_answer_holds_the_comment_and_loses_nothing(article, reader, hook, answer, delay):
    hook.answer, hook.delay = answer, delay
    started = time.monotonic()
    comment = comment_create(article=article, author=reader, text="Words that must not be lost.")
    assert time.monotonic() - started < 1.4  # the timeout, not the service's pace
    assert _state(comment) == (CommentState.HELD, "hook") and comment.body_source == "Words that must not be lost."


def test_a_service_that_is_down_holds_the_comment(article, reader, settings):
    settings.VIGIL_COMMENTS_HOOK_URL = "http://127.0.0.1:1/check"  # nothing listens there
    settings.VIGIL_COMMENTS_HOOK_SECRET = "hook-secret"
    comment = comment_create(article=article, author=reader, text="Posted while the service is down.")
    assert _state(comment) == (CommentState.HELD, "hook")
