"""The demo campaign: the petition behind the demo story, with a few thousand confirmed signatures.

`demo_campaign_ensure` is idempotent (by the petition's slug). `demo_signatures_add` adds confirmed signatures fast:
PostgreSQL's COPY in chunks (bulk_create elsewhere), then the tallies are rebuilt from the rows once.
"""

import csv
import hashlib
import io
import random
import secrets
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from petitions.models import MembershipRole, Petition, PetitionMembership, PetitionStatus
from petitions.services.editing import petition_create
from petitions.services.lifecycle import petition_open
from signatures.models import Signature, SignatureState
from signatures.services.counts import signature_counts_rebuild

SLUG = "stop-selling-face-recognition-to-police"
TITLE = "Stop selling face recognition to police"
ASK = "Stop selling face recognition to police and immigration authorities, and publish every agreement already signed."
BODY = """
<p>A system that can pick a face out of a crowd has been offered to police forces with no public debate, no
independent testing and no rules on its use.</p>
<p>Face recognition makes more mistakes with some people than with others. A false match can mean a stop, a search
or an arrest for someone who did nothing wrong. And a camera that knows who you are changes what it means to walk to
a protest, a clinic or a place of worship.</p>
<h2>We ask the company's chief executive to:</h2>
<ul>
<li>stop selling face recognition to police and immigration authorities;</li>
<li>publish every agreement already signed with a public body;</li>
<li>commission independent testing of how often the system misidentifies people.</li>
</ul>
"""
INITIAL_SIGNATURES = 3_000
CHUNK = 50_000

# (country, weight, [(region, towns)])
GEOGRAPHY = [
    ("US", 38, [("California", ["Oakland", "San Francisco", "Los Angeles"]), ("New York", ["Brooklyn", "Albany"]),
                ("Washington", ["Seattle", "Tacoma"]), ("Texas", ["Austin", "Houston"]), ("Illinois", ["Chicago"])]),
    ("GB", 18, [("England", ["London", "Manchester", "Bristol", "Leeds"]), ("Scotland", ["Glasgow", "Edinburgh"]),
                ("Wales", ["Cardiff", "Swansea"]), ("Northern Ireland", ["Belfast"])]),
    ("DE", 10, [("Berlin", ["Berlin"]), ("Bayern", ["München", "Nürnberg"]), ("Hamburg", ["Hamburg"])]),
    ("FR", 8, [("Île-de-France", ["Paris", "Montreuil"]), ("Bretagne", ["Rennes", "Brest"]),
               ("Occitanie", ["Toulouse"])]),
    ("CA", 7, [("Ontario", ["Toronto", "Ottawa"]), ("Québec", ["Montréal"]), ("British Columbia", ["Vancouver"])]),
    ("NL", 5, [("Noord-Holland", ["Amsterdam", "Haarlem"]), ("Zuid-Holland", ["Rotterdam", "Den Haag"])]),
    ("IE", 4, [("Leinster", ["Dublin"]), ("Munster", ["Cork", "Limerick"])]),
    ("AU", 4, [("New South Wales", ["Sydney"]), ("Victoria", ["Melbourne"])]),
    ("ES", 3, [("Cataluña", ["Barcelona"]), ("Madrid", ["Madrid"])]),
    ("SE", 2, [("Stockholm", ["Stockholm"]), ("Skåne", ["Malmö"])]),
    ("BR", 1, [("São Paulo", ["São Paulo"])]),
]  # fmt: skip
FIRST_NAMES = [
    "Ada", "Ahmed", "Aisha", "Alex", "Amara", "Ana", "Ben", "Carlos", "Chen", "Chloé", "Dana", "Daniel", "Elif",
    "Emma", "Fatima", "Femi", "Grace", "Hannah", "Ibrahim", "Isla", "Jamal", "Jonas", "Julia", "Kai", "Kenji", "Lara",
    "Leon", "Lucía", "Maria", "Mateo", "Mei", "Mohammed", "Nadia", "Noah", "Olga", "Omar", "Priya", "Rahul", "Rosa",
    "Sam", "Sara", "Sofia", "Tariq", "Tom", "Uma", "Wei", "Yusuf", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Adams", "Ali", "Becker", "Brown", "Costa", "Dubois", "Evans", "García", "Hughes", "Ivanova", "Jansen", "Khan",
    "Kowalski", "Lee", "Martin", "Müller", "Nguyen", "O'Brien", "Okafor", "Patel", "Quinn", "Rossi", "Santos",
    "Schmidt", "Singh", "Smith", "Tanaka", "Walsh", "Williams", "Zhang",
]  # fmt: skip
SOURCES = [("", ""), ("newsletter", ""), ("mastodon", "social.example"), ("", "news.example.org"), ("partner", "")]
COLUMNS = [
    "petition_id", "state", "first_name", "last_name", "email", "canonical_email", "email_domain", "country", "region",
    "town", "postal_code", "show_publicly", "contact_ok", "ip_hash", "referrer_host", "utm_source", "utm_medium",
    "utm_campaign", "generation", "mail_count", "created_at", "confirmed_at", "counted",
]  # fmt: skip


def demo_campaign_ensure(*, article, organiser) -> Petition:
    """The demo petition (open, goal 150,000), owned by the organiser, linked from the article, with signatures."""
    with transaction.atomic():
        petition = Petition.objects.filter(slug=SLUG).first()
        if petition is None:
            petition = petition_create(
                petition=Petition(
                    slug=SLUG, title=TITLE, ask=ASK, body=BODY.strip(), goal=150_000,
                    target_name="The chief executive", target_organisation="The company",
                    target_email="office-of-the-ceo@company.example",
                ),
                by=organiser,
                now=timezone.now() - timedelta(days=30),
            )  # fmt: skip
        if petition.status == PetitionStatus.DRAFT:
            petition_open(petition=petition, now=timezone.now() - timedelta(days=30))
        PetitionMembership.objects.get_or_create(
            petition=petition, user=organiser, defaults={"role": MembershipRole.OWNER}
        )
        if article.related_petition_id != petition.pk:
            type(article).objects.filter(pk=article.pk).update(related_petition=petition)
            article.related_petition = petition
    if not Signature.objects.filter(petition=petition).exists():
        demo_signatures_add(petition=petition, count=INITIAL_SIGNATURES)
    return petition


def _rows(petition: Petition, count: int, *, now: datetime, rng: random.Random, run: str):
    """count confirmed signatures spread over 30 days: a slow start, a surge after the story, a long tail."""
    weights = [weight for _, weight, _ in GEOGRAPHY]
    for i in range(count):
        country, _, regions = rng.choices(GEOGRAPHY, weights=weights)[0]
        region, towns = rng.choice(regions)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"supporter-{run}-{i}@demo.vigil.example"
        age = timedelta(days=30) * (rng.betavariate(1.3, 4.0) if rng.random() < 0.8 else rng.random())
        created = now - age
        confirmed = created + timedelta(minutes=rng.randint(1, 180))
        if confirmed > now:
            confirmed = now
        utm_source, referrer = rng.choice(SOURCES)
        yield [
            petition.pk, SignatureState.CONFIRMED, first, last, email, email, "demo.vigil.example", country, region,
            rng.choice(towns), "", rng.random() < 0.6, rng.random() < 0.4,
            hashlib.sha256(f"demo-{rng.randint(1, 10**9)}".encode()).hexdigest(), referrer, utm_source, "", "", 1, 1,
            created, confirmed, True,
        ]  # fmt: skip


def demo_signatures_add(*, petition: Petition, count: int) -> int:
    """Add count confirmed demo signatures in bulk and rebuild the petition's tallies; returns the new total."""
    if count <= 0:
        return Signature.objects.filter(petition=petition, state=SignatureState.CONFIRMED).count()
    now = timezone.now()
    rng = random.Random(secrets.randbits(32))
    run = secrets.token_hex(4)  # unique addresses across runs
    rows = _rows(petition, count, now=now, rng=rng, run=run)
    if connection.vendor == "postgresql":
        copy_sql = f"COPY {Signature._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        done = 0
        while done < count:
            buffer = io.StringIO()
            writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)  # quoted "" is an empty string, not NULL
            for _ in range(min(CHUNK, count - done)):
                row = next(rows)
                writer.writerow(["t" if value is True else "f" if value is False else value for value in row])
            buffer.seek(0)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.copy_expert(copy_sql, buffer)
            done += min(CHUNK, count - done)
    else:
        batch = []
        for row in rows:
            batch.append(Signature(**dict(zip(COLUMNS, row, strict=True))))
            if len(batch) == 5_000:
                Signature.objects.bulk_create(batch)
                batch = []
        Signature.objects.bulk_create(batch)
    return signature_counts_rebuild(petition_id=petition.pk, now=now)
