from django.contrib.sitemaps import Sitemap

from petitions.selectors import petitions_sitemap_items


class PetitionSitemap(Sitemap):
    """Public petitions only (open, closed, delivered); nothing about signers."""

    changefreq = "daily"
    limit = 5000

    def items(self):
        return petitions_sitemap_items()

    def lastmod(self, petition):
        return petition.updated_at
