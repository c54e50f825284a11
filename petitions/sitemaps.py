from django.contrib.sitemaps import Sitemap

from petitions.selectors import petition_updates_sitemap_items, petitions_sitemap_items


class PetitionSitemap(Sitemap):
    """Public petitions only (open, closed, delivered); nothing about signers."""

    changefreq = "daily"
    limit = 5000

    def items(self):
        return petitions_sitemap_items()

    def lastmod(self, petition):
        return petition.updated_at


class PetitionUpdateSitemap(Sitemap):
    """Published updates of public petitions."""

    changefreq = "weekly"
    limit = 5000

    def items(self):
        return petition_updates_sitemap_items()

    def lastmod(self, update):
        return update.updated_at
