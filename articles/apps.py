from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"

    def ready(self) -> None:
        from articles.models import Article, ArticleImage, Author, Section
        from core import pagecache

        pagecache.watch_models(Article, ArticleImage, Author, Section)
