import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from accounts.models import User
from accounts.services.roles import role_grant


class UserFactory(factory.django.DjangoModelFactory):
    """An account whose e-mail address is not verified yet."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Faker("first_name")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def email_address(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=False)


class VerifiedUserFactory(UserFactory):
    """A reader whose e-mail address is verified."""

    @factory.post_generation
    def email_address(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


def totp_enable(user: User) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def staff_user(role: str, *, mfa: bool = True) -> User:
    """A verified account in a staff role, with an authenticator app unless mfa=False."""
    user = VerifiedUserFactory()
    role_grant(user=user, role=role)
    if mfa:
        totp_enable(user)
    return user


__all__ = ["Authenticator", "UserFactory", "VerifiedUserFactory", "staff_user", "totp_enable"]


# --- articles ---------------------------------------------------------------------------------------------------
import io  # noqa: E402

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.utils import timezone  # noqa: E402
from PIL import Image  # noqa: E402

from articles.models import Article, ArticleImage, ArticleStatus, Author, Section  # noqa: E402


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Section {n}")
    slug = factory.Sequence(lambda n: f"section-{n}")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Faker("name")
    slug = factory.Sequence(lambda n: f"author-{n}")


class DraftArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Story number {n}")
    slug = factory.Sequence(lambda n: f"story-{n}")
    standfirst = "What happened, in a sentence."
    body = "<p>The body of the story.</p>"
    body_text = "The body of the story."
    section = factory.SubFactory(SectionFactory)
    status = ArticleStatus.DRAFT
    published_at = None

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create and extracted:
            self.authors.add(*extracted)


class PublishedArticleFactory(DraftArticleFactory):
    status = ArticleStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (800, 600), color=(120, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def image_upload(name: str = "photo.jpg", fmt: str = "JPEG", size=(800, 600)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(fmt, size), content_type="image/jpeg")


class ArticleImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArticleImage

    article = factory.SubFactory(PublishedArticleFactory)
    image = factory.LazyFunction(lambda: image_upload())
    alt_text = "A picture of something relevant."
    caption = "A caption."
    credit = "Photo: Someone"
