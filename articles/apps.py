from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"

    def ready(self) -> None:
        from articles.models import Article, ArticleImage, Author, Section
        from core import pagecache

        pagecache.watch_models(Article, ArticleImage, Author, Section)

        from django.db.models.signals import post_delete, post_save

        from articles.selectors import sections_for_navigation_forget

        def section_changed(sender, raw=False, **kwargs):
            if not raw:
                pagecache.after_commit(sections_for_navigation_forget)

        post_save.connect(section_changed, sender=Section, dispatch_uid="articles:nav-sections:save")
        post_delete.connect(section_changed, sender=Section, dispatch_uid="articles:nav-sections:delete")
