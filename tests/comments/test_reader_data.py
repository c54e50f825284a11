"""A reader downloads everything they wrote (comments as they typed them, flags they raised) from their discussion
settings: their own, no one else's, and nothing moderators wrote about them."""

import json

import pytest
from django.urls import reverse

from comments.services.writing import comment_flag
from tests.comments.factories import post

pytestmark = pytest.mark.django_db


def test_a_reader_downloads_their_comments_and_flags_and_nothing_of_anyone_else(client, article, reader, other_reader):
    first = post(article=article, author=reader, text="Police use of this needs a warrant.")
    reply = post(author=reader, parent=first, text="And an <b>audit</b> of every search.")
    theirs = post(article=article, author=other_reader, text="Someone else's words.")
    comment_flag(comment=theirs, user=reader, reason="other", note="Off topic")
    comment_flag(comment=first, user=other_reader, reason="spam")  # a flag on the reader's comment, by another

    client.force_login(reader)
    settings_page = client.get(reverse("comments:preferences")).content.decode()
    assert reverse("comments:reader_data") in settings_page and reverse("accounts:delete") in settings_page
    response = client.get(reverse("comments:reader_data"))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith('attachment; filename="vigil-my-comments-')
    data = json.loads(response.content)
    assert data["account"]["email"] == reader.email
    assert [c["text"] for c in data["comments"]] == ["Police use of this needs a warrant.",
                                                     "And an <b>audit</b> of every search."]  # fmt: skip
    assert data["comments"][1]["in_reply_to"] == first.pk and data["comments"][0]["article"] == article.title
    assert data["comments"][1]["address"] == reply.get_absolute_url()
    assert [(f["comment"], f["reason"], f["note"]) for f in data["flags"]] == [(theirs.pk, "other", "Off topic")]
    assert "Someone else's words." not in response.content.decode()


def test_the_download_needs_the_reader_signed_in(client):
    response = client.get(reverse("comments:reader_data"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
