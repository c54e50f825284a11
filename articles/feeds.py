from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from articles import selectors
from articles.models import Article, Section


class LatestArticlesFeed(Feed):
    feed_type = Rss201rev2Feed

    def get_object(self, request, slug: str | None = None):
        return get_object_or_404(Section, slug=slug) if slug else None

    def title(self, section: Section | None) -> str:
        return f"{settings.SITE_NAME}: {section.name}" if section else f"{settings.SITE_NAME}: latest news"

    def link(self, section: Section | None) -> str:
        return section.get_absolute_url() if section else reverse("articles:list")

    def description(self, section: Section | None) -> str:
        return section.description if section and section.description else "News and campaigns for civil liberties."

    def items(self, section: Section | None) -> list[Article]:
        return selectors.articles_for_feed(section=section)

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.standfirst

    def item_pubdate(self, item: Article):
        return item.published_at

    def item_updateddate(self, item: Article):
        return item.updated_at

    def item_author_name(self, item: Article) -> str | None:
        names = [author.name for author in item.authors.all()]
        return ", ".join(names) or None

    def item_categories(self, item: Article) -> list[str]:
        return [item.section.name]


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed

    def subtitle(self, section: Section | None) -> str:
        return self.description(section)
