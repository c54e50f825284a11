"""The demo story's discussion: readers arguing, civilly, about face recognition and policing.

`demo_discussion_ensure` is idempotent: each comment is found by its author and words before it is made, so running
the seed again adds nothing, and a half-finished run is completed.
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from articles.models import Article
from comments.models import Comment
from comments.services.writing import comment_create

DEMO_READERS = [
    ("ada@demo.vigil.example", "Ada"),
    ("bayo@demo.vigil.example", "Bayo"),
    ("chen@demo.vigil.example", "Chen"),
    ("dolores@demo.vigil.example", "Dolores"),
]
PASSWORD = "vigil-demo-password"

# (key, parent key or None, reader index, hours after publication, text)
THREAD = [
    (
        "a",
        None,
        0,
        2,
        "The part that worries me most is the real-time matching at public events. Going to a demonstration "
        "should not mean your face lands in a police database.",
    ),
    (
        "b",
        "a",
        1,
        3,
        "I understand the worry, but my brother's shop was robbed twice last year and the footage was useless "
        "because nobody could identify anyone. There has to be some middle ground.",
    ),
    (
        "c",
        "b",
        0,
        4,
        "Identifying a suspect from footage after a crime is a different thing from scanning every face in a "
        "crowd, though. The article is about the second.",
    ),
    (
        "d",
        "c",
        1,
        5,
        "Fair distinction. I could live with the first under a warrant. The crowd scanning I am less sure about.",
    ),
    (
        "e",
        None,
        2,
        6,
        "Has anyone seen the error rates? The article mentions misidentification but gives no numbers. "
        "Independent testing should come before any contract, not after.",
    ),
    (
        "f",
        "e",
        3,
        7,
        "The published studies I have read found far more false matches for darker-skinned women than for "
        "lighter-skinned men. That alone should stop deployment until it is fixed and checked by someone independent.",
    ),
    (
        "g",
        "f",
        2,
        8,
        'Agreed that testing matters. But "until it is fixed" could mean never. What threshold would you accept?',
    ),
    (
        "h",
        "g",
        3,
        9,
        "Error rates that do not differ by group, published every year, and a person, not the software, making "
        "every decision to stop someone. That is not an impossible bar.",
    ),
    (
        "i",
        None,
        1,
        10,
        "Honest question for the campaigners: if the company stops selling, will police not just buy the same "
        "thing from a smaller firm with even less scrutiny?",
    ),
    (
        "j",
        "i",
        0,
        11,
        "Possibly, which is why the petition asks for publication of the existing contracts too. Rules that "
        "apply to every vendor would be better than one company's promise.",
    ),
    (
        "k",
        "i",
        2,
        12,
        "A big company walking away still changes the conversation. It happened with other surveillance tools.",
    ),
]


def _reader(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(username=email.split("@")[0], email=email, display_name=name)
        user.set_password(PASSWORD)
        user.save()
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def _when(*, start, now, hours: int, last_hour: int):
    """`hours` after publication, squeezed in proportion when the story is younger than the discussion."""
    span = now - start
    if span >= timedelta(hours=last_hour):
        return start + timedelta(hours=hours)
    return start + span * hours / last_hour


@transaction.atomic
def demo_discussion_ensure(*, article: Article, readers: list) -> None:
    """Give `article` its threaded demo discussion; the given readers take part alongside four demo readers."""
    people = [*list(readers)[:1], *(_reader(email, name) for email, name in DEMO_READERS)]
    start = article.published_at or timezone.now()
    now = timezone.now()
    last_hour = max(hours for *_, hours, _text in THREAD) + 1
    made: dict[str, Comment] = {}
    for key, parent_key, who, hours, text in THREAD:
        author = people[who % len(people)]
        parent = made.get(parent_key) if parent_key else None
        existing = Comment.objects.filter(article=article, author=author, body_source=text).first()
        if existing is None:
            existing = comment_create(
                article=article,
                author=author,
                text=text,
                parent=parent,
                now=_when(start=start, now=now, hours=hours, last_hour=last_hour),
                screen=False,
                notify=False,
            )
        made[key] = existing
