from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from articles.forms import ArticleImageForm
from articles.models import Article, ArticleImage, ArticleStatus, Author, Section
from articles.services.images import article_image_queue_renditions
from articles.services.publishing import ArticleError, article_publish, article_save, article_unpublish


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class ArticleImageInline(admin.StackedInline):
    model = ArticleImage
    form = ArticleImageForm
    extra = 1
    fields = ["preview", "image", "alt_text", "caption", "credit", "position"]
    readonly_fields = ["preview"]

    @admin.display(description=_("Preview"))
    def preview(self, obj: ArticleImage):
        if not obj.pk or not obj.image:
            return "—"
        return format_html('<img src="{}" alt="" width="160">', obj.image.url)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "section", "status", "published_at", "updated_at"]
    list_filter = ["status", "section", "authors", "published_at"]
    search_fields = ["title", "standfirst", "slug"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["authors", "related_petition"]
    inlines = [ArticleImageInline]
    actions = ["publish", "unpublish"]
    readonly_fields = ["status", "created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["title", "slug", "section", "authors", "standfirst", "body"]}),
        (_("Source"), {"fields": ["source_name", "source_url"]}),
        (_("Campaign"), {"fields": ["related_petition"]}),
        (_("Publication"), {"fields": ["status", "published_at", "comments_open", "created_at", "updated_at"]}),
    ]

    def view_on_site(self, obj: Article) -> str:
        return obj.get_absolute_url()  # staff with the preview permission see drafts there too

    def save_model(self, request, obj: Article, form, change: bool) -> None:
        if obj.status == ArticleStatus.DRAFT and obj.published_at is not None and not change:
            obj.published_at = None  # a new draft has no publication time until it is published
        article_save(article=obj)

    def save_formset(self, request, form, formset, change: bool) -> None:
        instances = formset.save()
        if formset.model is ArticleImage:
            # New or changed images get renditions; the job skips any whose renditions are current.
            article_image_queue_renditions(image_ids=[image.pk for image in instances])

    @admin.action(description=_("Publish the selected articles now (or at their set time)"))
    def publish(self, request, queryset):
        for article in queryset:
            article_publish(article=article, at=article.published_at)
        self.message_user(request, _("%(n)d article(s) published or scheduled.") % {"n": queryset.count()})

    @admin.action(description=_("Unpublish the selected articles (back to draft)"))
    def unpublish(self, request, queryset):
        done = 0
        for article in queryset:
            try:
                article_unpublish(article=article)
                done += 1
            except ArticleError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, _("%(n)d article(s) returned to draft.") % {"n": done})
