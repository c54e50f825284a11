"""What the browser journeys find on the site: the demo story (three images) and a few more stories around it."""

from dataclasses import dataclass
from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from articles.models import Article, ArticleImage, Section
from core.images import make_demo_image
from demo.story import demo_story_ensure
from tests.factories import PublishedArticleFactory

MORE_STORIES = [
    {
        "section": "policing",
        "slug": "stop-and-search-figures",
        "title": "Stop and search rose by a third last year, official figures show",
        "standfirst": "Most searches found nothing, and people in some areas were searched far more often than others.",
        "image": "STREET",
    },
    {
        "section": "free-expression",
        "slug": "protest-bill-amendments",
        "title": "Protest bill amended after a week of pressure",
        "standfirst": "Two of the widest new powers were dropped; campaigners say the rest still go too far.",
        "image": None,
    },
    {
        "section": "computers",
        "slug": "data-retention-ruling",
        "title": "Court limits how long phone data may be kept",
        "standfirst": "A ruling this week says blanket retention of location records breaks privacy law.",
        "image": None,
    },
]


@dataclass(frozen=True)
class SiteContent:
    story: Article  # the demo story: section "Computers", three images, so it has a gallery
    section: Section
    others: list[Article]


def site_content_create() -> SiteContent:
    story = demo_story_ensure()
    others = []
    now = timezone.now()
    for minutes, spec in enumerate(MORE_STORIES, start=1):
        article = PublishedArticleFactory(
            section=Section.objects.get(slug=spec["section"]),
            slug=spec["slug"],
            title=spec["title"],
            standfirst=spec["standfirst"],
            body=f"<p>{spec['standfirst']}</p>",
            body_text=spec["standfirst"],
            published_at=now - timedelta(minutes=minutes),
        )
        if spec["image"]:
            ArticleImage.objects.create(
                article=article,
                image=ContentFile(make_demo_image(960, 600, title=spec["image"], seed=7), name="street.jpg"),
                alt_text="A police officer speaking to two young men on a shopping street.",
                caption="A search on a shopping street.",
                credit="Illustration: Vigil",
            )
        others.append(article)
    return SiteContent(story=story, section=story.section, others=others)
