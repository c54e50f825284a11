"""A comment under an article that is not public (a draft, or unpublished after comments were written) cannot be
read by its id: not on its page, not on its reply or flag forms."""

import pytest
from django.urls import reverse

from articles.models import Article, ArticleStatus
from tests.comments.factories import post

pytestmark = pytest.mark.django_db

SECRET = "The embargoed figures are 41 and 97."


@pytest.mark.parametrize("view", ["comments:permalink", "comments:reply", "comments:flag"])
def test_a_comment_of_an_unpublished_article_is_not_readable_by_id(client, reader, article, view):
    comment = post(article=article, text=SECRET)
    Article.objects.filter(pk=article.pk).update(status=ArticleStatus.DRAFT)
    client.force_login(reader)
    answer = client.get(reverse(view, args=[comment.pk]))
    assert answer.status_code == 404
    assert SECRET not in answer.content.decode()


def test_the_flag_form_of_a_public_comment_still_works(client, reader, article):
    comment = post(article=article, text=SECRET)
    client.force_login(reader)
    answer = client.get(reverse("comments:flag", args=[comment.pk]))
    assert answer.status_code == 200 and SECRET in answer.content.decode()
