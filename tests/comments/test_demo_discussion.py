import pytest

from comments.models import Comment, CommentState
from demo.discussion import demo_discussion_ensure
from tests.factories import PublishedArticleFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


def test_demo_discussion_is_threaded_and_idempotent(client, settings):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 5  # the demo content is loaded visible whatever the hold rules
    article = PublishedArticleFactory()
    sam = VerifiedUserFactory(display_name="Sam Reader")
    demo_discussion_ensure(article=article, readers=[sam])
    demo_discussion_ensure(article=article, readers=[sam])
    comments = Comment.objects.filter(article=article)
    assert comments.count() >= 8
    assert comments.filter(parent__isnull=False).count() >= 5
    assert comments.filter(depth__gte=3).exists()
    assert set(comments.values_list("state", flat=True)) == {CommentState.VISIBLE}
    assert comments.values("author").distinct().count() >= 4
    article.refresh_from_db()
    assert article.comment_count == comments.count()
    html = client.get(f"/news/{article.slug}/discussion/").content.decode()
    assert "Sam Reader" in html and "face" in html
