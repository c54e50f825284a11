from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import override_settings

from demo.users import DEMO_USERS, demo_totp_code

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label not in {"sessions", "admin"}
    }


def test_seed_demo_refuses_with_debug_off_and_creates_nothing():
    before = _counts()
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", signatures=10, stdout=StringIO())
    assert _counts() == before


@override_settings(DEBUG=True)
def test_seed_demo_twice_leaves_the_same_rows():
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first
    assert first["accounts.User"] >= len(DEMO_USERS)


@override_settings(DEBUG=True)
def test_seed_demo_tells_the_whole_story():
    from articles.models import Article
    from comments.models import Comment
    from signatures.models import Signature

    call_command("seed_demo", stdout=StringIO())
    article = Article.objects.select_related("related_petition", "section").get(slug="face-recognition-sold-to-police")
    assert article.section.name == "Computers" and article.is_public()
    assert article.images.count() == 3 and article.source_name
    petition = article.related_petition
    assert petition.goal == 150_000
    assert Signature.objects.filter(petition=petition).confirmed().count() >= 2000
    comments = Comment.objects.filter(article=article)
    assert comments.count() >= 8 and comments.filter(parent__isnull=False).exists()


@override_settings(DEBUG=True)
def test_demo_staff_sign_in_with_the_printed_code(client):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    call_command("seed_demo", stdout=StringIO())
    editor = Authenticator.objects.get(user__email="editor@demo.vigil.example", type="totp")
    assert TOTP(editor).validate_code(demo_totp_code())
