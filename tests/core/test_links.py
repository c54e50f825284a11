"""Every link an e-mail carries is built by core.links.absolute_url, from one scheme setting and the site's host."""

import pytest
from django.conf import settings as loaded_settings

from comments.services.writing import comment_create
from core.links import absolute_url
from core.models import OutboundEmail
from tests.factories import PublishedArticleFactory, VerifiedUserFactory


def test_a_path_becomes_an_address_on_the_public_host(settings):
    settings.VIGIL_LINK_SCHEME, settings.VIGIL_SITE_DOMAIN = "https", "vigil.example.org"
    assert absolute_url("/petitions/save-the-park/") == "https://vigil.example.org/petitions/save-the-park/"


def test_allauths_links_follow_the_same_scheme():
    assert loaded_settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL == loaded_settings.VIGIL_LINK_SCHEME


@pytest.mark.django_db
def test_a_reply_notice_links_like_every_other_mail(settings):
    settings.VIGIL_COMMENTS_HOLD_FIRST = 0
    settings.VIGIL_LINK_SCHEME, settings.VIGIL_SITE_DOMAIN = "https", "vigil.example.org"  # not the suite's scheme
    article = PublishedArticleFactory()
    parent = comment_create(article=article, author=VerifiedUserFactory(email="ada@example.org"), text="First.")
    reply = comment_create(article=article, author=VerifiedUserFactory(), text="Second.", parent=parent)
    notice = OutboundEmail.objects.get(to=["ada@example.org"])
    assert f"https://vigil.example.org/comments/{reply.pk}/" in notice.body_text
    assert "https://vigil.example.org/comments/unsubscribe/" in notice.body_text
