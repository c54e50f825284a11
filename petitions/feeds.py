"""Each public petition's updates as RSS and Atom (/petitions/<slug>/updates/rss/ and /atom/), newest first."""

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from petitions import selectors
from petitions.models import Petition, PetitionUpdate


class PetitionUpdatesFeed(Feed):
    feed_type = Rss201rev2Feed

    def get_object(self, request, slug: str) -> Petition:
        return selectors.petition_public(slug=slug)

    def title(self, petition: Petition) -> str:
        return f"Updates: {petition.title}"

    def link(self, petition: Petition) -> str:
        return petition.get_absolute_url()

    def description(self, petition: Petition) -> str:
        return petition.ask

    def items(self, petition: Petition) -> list[PetitionUpdate]:
        return selectors.petition_updates_feed(petition=petition)

    def item_title(self, item: PetitionUpdate) -> str:
        return item.title

    def item_description(self, item: PetitionUpdate) -> str:
        return item.body

    def item_pubdate(self, item: PetitionUpdate):
        return item.published_at

    def item_updateddate(self, item: PetitionUpdate):
        return item.updated_at


class PetitionUpdatesAtomFeed(PetitionUpdatesFeed):
    feed_type = Atom1Feed

    def subtitle(self, petition: Petition) -> str:
        return petition.ask
