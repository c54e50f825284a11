from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path
from django.views.generic import TemplateView

from api.views.osdi import api as osdi_api
from articles import views as article_views
from articles.sitemaps import ArticleSitemap, SectionSitemap
from core import views as core_views
from petitions.sitemaps import PetitionSitemap, PetitionUpdateSitemap

# The admin's own login form is replaced by allauth's, so its rate limits and second factor apply there too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = settings.SITE_NAME

handler403 = "core.views.permission_denied"
handler500 = "core.views.server_error"

SITEMAPS = {"articles": ArticleSitemap, "sections": SectionSitemap, "petitions": PetitionSitemap,
            "petition-updates": PetitionUpdateSitemap}  # fmt: skip

urlpatterns = [
    path("", article_views.home, name="home"),
    path("", include("articles.urls")),
    path("", include("comments.urls")),
    path("", include("deliverables.urls")),
    path("", include("petitions.urls")),
    path("", include("api.urls")),
    path("api/v1/", osdi_api.urls),
    path(
        "sitemap.xml", sitemap_views.index, {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap_part"}, name="sitemap"
    ),
    path("sitemap-<section>.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap_part"),
    path("robots.txt", TemplateView.as_view(template_name="robots.txt", content_type="text/plain"), name="robots"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
