from django.urls import path

from articles import feeds, views
from core.pagecache import shared_page

rss, atom = shared_page()(feeds.LatestArticlesFeed()), shared_page()(feeds.LatestArticlesAtomFeed())

app_name = "articles"
urlpatterns = [
    path("news/", views.article_list, name="list"),
    path("news/<slug:slug>/", views.article_detail, name="detail"),
    path("news/<slug:slug>/gallery/", views.article_gallery, name="gallery"),
    path("sections/<slug:slug>/", views.section_detail, name="section"),
    path("sections/<slug:slug>/rss/", rss, name="section_rss"),
    path("sections/<slug:slug>/atom/", atom, name="section_atom"),
    path("authors/<slug:slug>/", views.author_detail, name="author"),
    path("search/", views.search, name="search"),
    path("feeds/rss/", rss, name="rss"),
    path("feeds/atom/", atom, name="atom"),
]
