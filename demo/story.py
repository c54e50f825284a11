"""The demo story: a civil-liberties group's campaign against a company selling face recognition to police."""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from articles.models import Article, ArticleImage, ArticleStatus, Author, Section
from articles.services.images import article_image_queue_renditions
from articles.services.publishing import article_save
from core.images import make_demo_image

SECTION = {"slug": "computers", "name": "Computers", "description": "Surveillance, data and the machines that watch."}
OTHER_SECTIONS = [
    {"slug": "policing", "name": "Policing", "description": "Police powers and how they are checked."},
    {"slug": "free-expression", "name": "Free expression", "description": "Speech, press and protest."},
]
AUTHOR = {"slug": "dana-whitfield", "name": "Dana Whitfield", "bio": "Dana covers surveillance technology."}

SLUG = "face-recognition-sold-to-police"
TITLE = "A tech giant is selling face recognition to police. Campaigners want it stopped"
STANDFIRST = (
    "Civil-liberties groups say a system that can identify people in a crowd has been offered to police forces "
    "with no public debate, no independent testing and no rules on its use."
)
BODY = """
<p>A coalition of civil-liberties organisations has asked one of the world's largest technology companies to stop
selling its face recognition service to police forces, after documents showed the company promoting the system to
several departments as a way to identify people from street cameras in real time.</p>
<p>The service compares faces in photographs or video against a database of images supplied by the customer. Sales
material seen by campaigners describes matching "persons of interest" at public events and scanning footage from
officers' body cameras.</p>
<h2>What campaigners are asking for</h2>
<ul>
<li>An end to sales of face recognition to police and immigration authorities.</li>
<li>Publication of every agreement already signed with a public body.</li>
<li>Independent testing of how often the system misidentifies people, broken down by age, sex and skin tone.</li>
</ul>
<blockquote><p>People should be able to walk down the street, go to a protest or visit a clinic without being
identified and logged by a machine they never agreed to.</p></blockquote>
<p>Researchers have repeatedly found that face recognition systems make more mistakes with some groups of people
than with others. A false match in a police database can mean a stop, a search or an arrest for someone who did
nothing wrong.</p>
<h2>The company's answer</h2>
<p>The company says its customers must follow the law and that the service is one tool among many. It has not said
how many police forces use the system, nor whether it checks how they use it.</p>
<p>More than 150,000 people have signed a petition asking the company's chief executive to stop the sales, and about
seventy organisations have co-signed a coalition letter. A group of shareholders has written separately, asking the
board to commission an independent review of the human-rights risks.</p>
<h2>What happens next</h2>
<p>Organisers plan to deliver the petition and both letters to the company's headquarters. Shareholders are expected
to raise the issue at the annual meeting.</p>
"""
SOURCE = {"source_name": "Vigil reporting; company sales documents", "source_url": "https://example.org/documents"}
IMAGES = [
    {
        "title": "CAMERAS",
        "alt_text": "A row of street cameras mounted on a grey pole above a busy pedestrian crossing.",
        "caption": "Street cameras like these could feed a face recognition system in real time.",
        "credit": "Illustration: Vigil",
    },
    {
        "title": "PROTEST",
        "alt_text": "Protesters holding placards that read 'Stop face surveillance' outside an office building.",
        "caption": "Campaigners outside the company's offices.",
        "credit": "Illustration: Vigil",
    },
    {
        "title": "PETITION",
        "alt_text": "Boxes of printed petition pages stacked on a table, ready for delivery.",
        "caption": "The petition, printed for delivery to the chief executive.",
        "credit": "Illustration: Vigil",
    },
]


MORE_STORIES = [
    {
        "slug": "stop-and-search-rises",
        "section": "policing",
        "title": "Stop and search rose by a third last year, official figures show",
        "standfirst": "Most searches found nothing, and people in some areas were searched far more often than others.",
        "body": "<p>Figures published this week show police carried out a third more stops and searches than the year "
        "before. Three in four found nothing.</p><p>Campaigners want every search recorded with its reason and "
        "outcome, and the records opened to independent review.</p>",
        "image": "STREET",
    },
    {
        "slug": "protest-bill-amended",
        "section": "free-expression",
        "title": "Protest bill amended after a week of pressure",
        "standfirst": "Two of the widest new powers were dropped; campaigners say the rest still go too far.",
        "body": "<p>Lawmakers removed the power to ban a protest for being noisy and the offence of carrying a "
        "banner pole, after thousands wrote to their representatives.</p><p>Other powers remain, including "
        "conditions on marches set at an hour's notice.</p>",
        "image": None,
    },
    {
        "slug": "phone-data-retention-ruling",
        "section": "computers",
        "title": "Court limits how long phone data may be kept",
        "standfirst": "A ruling this week says blanket retention of location records breaks privacy law.",
        "body": "<p>Telephone companies may no longer keep everyone's location records for two years just in case "
        "police ask for them, the court ruled.</p><p>Records may still be kept for named suspects under a "
        "warrant.</p>",
        "image": None,
    },
]


def demo_more_stories_ensure(*, author: Author) -> None:
    for index, spec in enumerate(MORE_STORIES, start=1):
        if Article.objects.filter(slug=spec["slug"]).exists():
            continue
        article = Article(
            slug=spec["slug"],
            title=spec["title"],
            standfirst=spec["standfirst"],
            body=spec["body"],
            section=Section.objects.get(slug=spec["section"]),
            status=ArticleStatus.PUBLISHED,
            published_at=timezone.now() - timedelta(hours=6 * index),
        )
        article_save(article=article)
        article.authors.add(author)
        if spec["image"]:
            image = ArticleImage.objects.create(
                article=article,
                image=ContentFile(make_demo_image(1600, 1000, title=spec["image"], seed=10 + index), name="demo.jpg"),
                alt_text="An illustration: a city street at dusk under a large pale moon.",
                caption="Illustration",
                credit="Illustration: Vigil",
            )
            article_image_queue_renditions(image_ids=[image.pk])


def demo_story_ensure() -> Article:
    section, _ = Section.objects.get_or_create(
        slug=SECTION["slug"], defaults={"name": SECTION["name"], "description": SECTION["description"]}
    )
    for position, spec in enumerate(OTHER_SECTIONS, start=1):
        Section.objects.get_or_create(slug=spec["slug"], defaults={**spec, "position": position})
    author, _ = Author.objects.get_or_create(
        slug=AUTHOR["slug"], defaults={"name": AUTHOR["name"], "bio": AUTHOR["bio"]}
    )
    article = Article.objects.filter(slug=SLUG).first()
    if article is None:
        article = Article(
            slug=SLUG,
            title=TITLE,
            standfirst=STANDFIRST,
            body=BODY.strip(),
            section=section,
            status=ArticleStatus.PUBLISHED,
            published_at=timezone.now(),
            **SOURCE,
        )
        article_save(article=article)
        article.authors.add(author)
    demo_more_stories_ensure(author=author)
    if not article.images.exists():
        for position, spec in enumerate(IMAGES):
            content = make_demo_image(1600, 1000, title=spec["title"], seed=position + 1)
            ArticleImage.objects.create(
                article=article,
                image=ContentFile(content, name=f"demo-{spec['title'].lower()}.jpg"),
                alt_text=spec["alt_text"],
                caption=spec["caption"],
                credit=spec["credit"],
                position=position,
            )
        article_image_queue_renditions(image_ids=list(article.images.values_list("pk", flat=True)))
    return article
