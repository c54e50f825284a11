"""Article pages under gunicorn with 5,000 published articles and 20,000 images.

    .venv/bin/python bench/articles_pages.py [--articles 5000] [--images 20000] [--requests 300]

Method: a fresh PostgreSQL database (vigil_bench_articles) is migrated and filled in bulk; gunicorn (2 sync workers,
DEBUG off, production settings) serves it on 127.0.0.1:8301; one client sends sequential requests over a keep-alive
connection (after a warm-up) to each page kind in turn, and to a trivial one-query view as the baseline, in the same
run. Times are wall times per response on loopback (server time plus a negligible local round trip).
"""

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, bench_env, gunicorn, manage, recreate_database, summary, time_requests  # noqa: E402

DATABASE = "vigil_bench_articles"
PORT = 8301
WORDS = (  # noqa: SIM905 (one long string reads better here)
    "police camera face recognition privacy council court data protest rights surveillance company contract "
    "journalist warrant algorithm database consent minister policy biometric citizens evidence report audit "
    "freedom speech assembly transparency oversight watchdog campaign petition lawmakers regulation accuracy"
).split()

POPULATE = r"""
import random, sys
import django
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from datetime import timedelta
from articles.models import Article, ArticleImage, ArticleStatus, Author, Section
from core.images import make_demo_image, make_renditions, rendition_name
from core.sanitize import strip_tags_to_text

articles_n, images_n, words = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split()
rng = random.Random(7)
sections = [Section.objects.create(name=f"Section {i}", slug=f"section-{i}", position=i) for i in range(8)]
authors = [Author.objects.create(name=f"Author {i}", slug=f"author-{i}") for i in range(40)]

# A handful of real image files with real renditions, shared by the 20,000 rows.
files = []
for i in range(6):
    content = make_demo_image(1600, 1000, title=f"BENCH {i}", seed=i)
    name = default_storage.save(f"bench/photo-{i}.jpg", ContentFile(content))
    renditions = []
    for r in make_renditions(content):
        rname = default_storage.save(rendition_name(name, r.width, r.format), ContentFile(r.content))
        renditions.append({"width": r.width, "height": r.height, "format": r.format, "name": rname, "source": name})
    files.append((name, renditions))

def paragraph():
    return " ".join(rng.choice(words) for _ in range(rng.randint(40, 90))).capitalize() + "."

now = timezone.now()
batch = []
for i in range(articles_n):
    body = "".join(f"<p>{paragraph()}</p>" for _ in range(rng.randint(5, 12)))
    batch.append(Article(
        title=" ".join(rng.choice(words) for _ in range(8)).capitalize() + f" {i}",
        slug=f"article-{i}", standfirst=paragraph()[:400], body=body, body_text=strip_tags_to_text(body),
        section=rng.choice(sections), status=ArticleStatus.PUBLISHED,
        published_at=now - timedelta(minutes=i * 7), comment_count=rng.randint(0, 300),
    ))
articles = Article.objects.bulk_create(batch, batch_size=1000)
Through = Article.authors.through
Through.objects.bulk_create(
    [Through(article_id=a.pk, author_id=rng.choice(authors).pk) for a in articles], batch_size=5000
)
images = []
for index in range(images_n):
    article = articles[index % len(articles)]
    name, renditions = files[index % len(files)]
    images.append(ArticleImage(
        article=article, image=name, width=1600, height=1000, alt_text="A bench image", caption="Caption",
        credit="Credit", position=index // len(articles), renditions=renditions, renditions_at=now,
    ))
ArticleImage.objects.bulk_create(images, batch_size=5000)
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print(Article.objects.count(), ArticleImage.objects.count())
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    env = bench_env(database=DATABASE, redis_db=5, settings="bench.settings_bench")
    recreate_database(DATABASE)
    manage(env, "migrate", "--noinput", "-v0")
    counts = subprocess.run(
        [sys.executable, "-c", POPULATE, str(args.articles), str(args.images), " ".join(WORDS)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    print(f"data: {counts[0]} published articles, {counts[1]} images")

    rng = random.Random(1)
    pages = {
        "trivial view (baseline)": ["/bench/trivial/"],
        "home": ["/"],
        "section page": [f"/sections/section-{i}/" for i in range(8)],
        "section page 20": [f"/sections/section-{i}/?page=20" for i in range(8)],
        "article page": [f"/news/article-{rng.randrange(args.articles)}/" for _ in range(50)],
        "search": [
            "/search/?" + urlencode({"q": query})
            for query in ("police", "face recognition", "privacy -court", '"data protection"')
        ],
    }
    results = {}
    with gunicorn(env, port=PORT):
        for label, paths in pages.items():
            results[label] = summary(time_requests(PORT, paths, count=args.requests))
    baseline = results["trivial view (baseline)"]["p50"]
    print(f"{'page':<26} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'p50 / baseline':>15}")
    for label, figures in results.items():
        ratio = figures["p50"] / baseline
        print(f"{label:<26} {figures['p50']:>8.1f} {figures['p95']:>8.1f} {figures['mean']:>8.1f} {ratio:>15.1f}")
    print(json.dumps({"requests_per_page": args.requests, "cpu_count": os.cpu_count()}))


if __name__ == "__main__":
    main()
