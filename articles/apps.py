from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"

    def ready(self) -> None:
        from articles.models import Article, ArticleImage, Author, Section
        from articles.selectors import sections_for_navigation_forget
        from core import pagecache

        pagecache.watch_models(Article, ArticleImage, Author)
        pagecache.watch_models(Section, forget=lambda section: sections_for_navigation_forget())
