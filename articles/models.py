import uuid

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Section(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Order in the site's navigation."))

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:section", args=[self.slug])


class Author(models.Model):
    """A byline. Authors need no account: the public sees only the name and the short biography."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    bio = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:author", args=[self.slug])


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")


class ArticleQuerySet(models.QuerySet):
    def published(self, *, now=None):
        """What the public may see: scheduled or published, with a publication time that has come."""
        now = now or timezone.now()
        return self.filter(status__in=[ArticleStatus.SCHEDULED, ArticleStatus.PUBLISHED], published_at__lte=now)


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, help_text=_("The article's address: /news/<slug>/."))
    # The article's id outside the site (the API's "vigil:<uuid>"): the slug may change, this does not.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    standfirst = models.TextField(max_length=600, help_text=_("One or two sentences under the headline."))
    body = models.TextField(help_text=_("Paragraphs, headings, lists, links, emphasis, quotes and figures."))
    body_text = models.TextField(blank=True, editable=False, help_text="The body as plain text, for search.")
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    authors = models.ManyToManyField(Author, related_name="articles", blank=True)
    source_name = models.CharField(max_length=200, blank=True, help_text=_('Shown as "Source: …".'))
    source_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    comments_open = models.BooleanField(default=True)
    # The campaign this story supports: its page shows the petition's live count and a button to sign.
    related_petition = models.ForeignKey(
        "petitions.Petition", null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    # Visible comments, kept by the comments app's services in SQL (F() updates) and rebuilt by its reconcile job,
    # so that lists show counts without a query per article.
    comment_count = models.PositiveIntegerField(default=0, editable=False)
    # Maintained by the database (a trigger on PostgreSQL; see migration 0002): title A, standfirst B, body C.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ArticleStatus.DRAFT) | Q(published_at__isnull=False),
                name="article_published_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["section", "-published_at"], name="article_section_recent_idx"),
            models.Index(fields=["status", "-published_at"], name="article_status_recent_idx"),
        ]
        permissions = [("preview_article", "Can preview unpublished articles")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("articles:detail", args=[self.slug])

    def is_public(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.status != ArticleStatus.DRAFT and self.published_at is not None and self.published_at <= now


def article_image_path(instance: "ArticleImage", filename: str) -> str:
    return f"articles/{timezone.now():%Y/%m}/{filename}"


class ArticleImage(models.Model):
    """One picture of an article's gallery. The first by position is the lead image."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=article_image_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    alt_text = models.CharField(
        max_length=300, help_text=_("What the picture shows, for people who cannot see it. Required.")
    )
    caption = models.CharField(max_length=500, blank=True)
    credit = models.CharField(max_length=200, blank=True, help_text=_('e.g. "Photo: Jane Doe / Agency".'))
    position = models.PositiveSmallIntegerField(default=0)
    # [{"width": 640, "height": 427, "format": "webp", "name": "articles/2026/11/x-640w.webp"}, ...]
    renditions = models.JSONField(default=list, blank=True, editable=False)
    renditions_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(alt_text=""), name="article_image_alt_text_required"),
        ]

    def __str__(self) -> str:
        return self.alt_text
