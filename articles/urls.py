from django.urls import path

from articles import feeds, views

app_name = "articles"
urlpatterns = [
    path("news/", views.article_list, name="list"),
    path("news/<slug:slug>/", views.article_detail, name="detail"),
    path("news/<slug:slug>/gallery/", views.article_gallery, name="gallery"),
    path("sections/<slug:slug>/", views.section_detail, name="section"),
    path("sections/<slug:slug>/rss/", feeds.LatestArticlesFeed(), name="section_rss"),
    path("sections/<slug:slug>/atom/", feeds.LatestArticlesAtomFeed(), name="section_atom"),
    path("authors/<slug:slug>/", views.author_detail, name="author"),
    path("search/", views.search, name="search"),
    path("feeds/rss/", feeds.LatestArticlesFeed(), name="rss"),
    path("feeds/atom/", feeds.LatestArticlesAtomFeed(), name="atom"),
]
