"""Server time of a big discussion page under gunicorn, against a trivial view in the same run; and the thread
storage choice, measured on the same data.

Usage: .venv/bin/python bench/comments_discussion.py [--count 300] [--port 8101]

Method:
1. A fresh PostgreSQL database (vigil_bench_comments) is created and migrated. One published article gets 2,000
   comments in 200 top-level threads, each thread reaching depth 8 (bulk inserts; paths made exactly as the
   service makes them; counters rebuilt by the reconcile job).
2. Thread storage: in this process, the query that loads all 2,000 comments in display order is timed 50 times
   with the materialised path (ORDER BY path on the (article, path) index) and with an adjacency list walked by a
   recursive CTE (the alternative that needs no path column), on the same rows. Median and p95 in ms.
3. Queries per page: the discussion page is rendered in-process with Django's test client and its queries counted,
   for the default page (20 threads) and for all 200 threads on one page.
4. gunicorn (2 sync workers, port 8101, production settings with DEBUG off, bench.settings_bench which adds the
   trivial view /bench/trivial/) serves; requests are sequential over loopback, the three URLs interleaved, after
   21 warm-up requests (7 per URL). Server time = from sending the request to having read the whole response, on
   loopback (so it includes the loopback round trip, which is the same for all three). p50, p95, mean in ms.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_env, gunicorn, recreate_database, summary, time_requests  # noqa: E402

DATABASE = "vigil_bench_comments"


def build(env: dict[str, str]) -> str:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.comments.factories import discussion_bulk_build
    from tests.factories import PublishedArticleFactory, VerifiedUserFactory

    authors = [VerifiedUserFactory(display_name=f"Reader {n}") for n in range(20)]
    article = PublishedArticleFactory(slug="bench-discussion", title="A discussion of 2,000 comments")
    made = discussion_bulk_build(article=article, authors=authors, threads=200, per_thread=10, max_depth=8)
    print(f"built: {made} comments in 200 threads, max depth 8, on /news/{article.slug}/discussion/")
    return article.slug


def storage_comparison(slug: str) -> None:
    from django.db import connection

    from articles.models import Article

    article_id = Article.objects.get(slug=slug).pk
    queries = {
        "materialised path (ORDER BY path)": (
            "SELECT id, parent_id, depth, body_html FROM comments_comment WHERE article_id = %s ORDER BY path",
            [article_id],
        ),
        "adjacency list (recursive CTE)": (
            """
            WITH RECURSIVE tree(id, parent_id, depth, body_html, sort_key) AS (
                SELECT id, parent_id, 0, body_html, ARRAY[id]
                  FROM comments_comment WHERE article_id = %s AND parent_id IS NULL
                UNION ALL
                SELECT c.id, c.parent_id, t.depth + 1, c.body_html, t.sort_key || c.id
                  FROM comments_comment c JOIN tree t ON c.parent_id = t.id
            )
            SELECT id, parent_id, depth, body_html FROM tree ORDER BY sort_key
            """,
            [article_id],
        ),
    }
    print("\nthread storage: load all 2,000 comments in display order, 50 runs each after 5 warm-up runs")
    orders = {}
    with connection.cursor() as cursor:
        for name, (sql, params) in queries.items():
            timings = []
            for run in range(55):
                started = time.perf_counter()
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                if run >= 5:
                    timings.append((time.perf_counter() - started) * 1000)
            orders[name] = [row[0] for row in rows]
            ordered = sorted(timings)
            p95 = ordered[int(0.95 * len(ordered)) - 1]
            print(f"  {name:<36} median {statistics.median(ordered):6.2f} ms   p95 {p95:6.2f} ms")
    first, second = orders.values()
    print(f"  same display order from both: {first == second}")


def query_counts(slug: str) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for label, per_page in (
        ("default page (20 threads)", settings.VIGIL_COMMENTS_THREADS_PER_PAGE),
        ("all 200 threads", 200),
    ):
        settings.VIGIL_COMMENTS_THREADS_PER_PAGE = per_page
        with CaptureQueriesContext(connection) as context:
            response = client.get(f"/news/{slug}/discussion/", HTTP_HOST="127.0.0.1")
        shown = response.content.decode().count('class="comment ')
        size = len(response.content) // 1024
        print(f"  {label:<28} {len(context.captured_queries)} queries, {shown} comments, {size} KiB")
    settings.VIGIL_COMMENTS_THREADS_PER_PAGE = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300, help="timed requests per URL")
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    print(__doc__)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    env = bench_env(
        database=DATABASE,
        redis_db=13,
        settings="bench.settings_bench",
        VIGIL_IP_HASH_KEY="bench-only-ip-hash-key-0123456789abcdefghijklmnopqrstuvwxyz",
    )
    recreate_database(DATABASE)
    slug = build(env)
    storage_comparison(slug)
    print("\nqueries per discussion page (in-process, anonymous reader):")
    query_counts(slug)

    from django.db import connections

    connections.close_all()
    urls = {
        "trivial view": "/bench/trivial/",
        "discussion, page 1 (20 threads, 200 comments)": f"/news/{slug}/discussion/",
        "discussion, most replies, page 5": f"/news/{slug}/discussion/?sort=replies&page=5",
    }
    paths = list(urls.values())
    with gunicorn(env, port=args.port, workers=2):
        timings = time_requests(args.port, paths, count=args.count * len(paths), warmup=21)
    print(f"\ngunicorn, 2 workers, {args.count} sequential requests per URL (interleaved), after 21 warm-up requests:")
    for index, label in enumerate(urls):
        figures = summary(timings[index :: len(paths)])
        p50, p95, mean = figures["p50"], figures["p95"], figures["mean"]
        print(f"  {label:<48} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   mean {mean:7.2f} ms")


if __name__ == "__main__":
    main()
