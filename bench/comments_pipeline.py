"""What the pipeline of checks costs each comment, with 1,000 watched patterns and 100,000 recent comments.

Usage: .venv/bin/python bench/comments_pipeline.py [--posts 500]

Method
- A fresh PostgreSQL database (vigil_bench_pipeline), migrated, production settings. 1,000 watched patterns (900
  words and phrases, 100 regular expressions), none of which the posts below contain; 100,000 comments written in
  the last hour by 200 accounts (bulk inserts, each with its fingerprint, as the service writes them).
- In this process, --posts submissions by an established account (its comments appeared, none removed: the steps
  run their queries in full), a third of them with a link, each with words not seen before: the whole pipeline
  (comments.services.pipeline.comment_screen) is timed per post, after 20 warm-up posts, and again with an empty
  pipeline for the same posts (the difference is the pipeline's cost). p50, p95, mean in ms; and the time per step.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_env, recreate_database  # noqa: E402

DATABASE = "vigil_bench_pipeline"
WORDS = ("police", "camera", "warrant", "privacy", "council", "shareholder", "letter", "street", "search", "vote")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=500)
    args = parser.parse_args()
    print(__doc__.split("Method")[1].strip(), "\n", flush=True)
    recreate_database(DATABASE)
    os.environ.update(bench_env(database=DATABASE, redis_db=13))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from comments.models import Comment, WatchedPattern, path_segment
    from comments.services import pipeline
    from tests.factories import PublishedArticleFactory, VerifiedUserFactory

    rng = random.Random(7)
    WatchedPattern.objects.bulk_create(
        [WatchedPattern(pattern=f"forbiddenword{n}", is_regex=False) for n in range(800)]
        + [WatchedPattern(pattern=f"banned phrase number {n}", is_regex=False) for n in range(100)]
        + [WatchedPattern(pattern=rf"spam{n}\d+offer", is_regex=True) for n in range(100)]
    )
    article = PublishedArticleFactory()
    authors = [VerifiedUserFactory() for _ in range(200)]
    now = timezone.now()
    batch = []
    for n in range(100_000):
        text = f"Comment {n}: " + " ".join(rng.choice(WORDS) for _ in range(12))
        batch.append(Comment(article=article, author=authors[n % 200], body_source=text, body_html=f"<p>{text}</p>",
                             fingerprint=pipeline.text_fingerprint(text),
                             created_at=now - timedelta(seconds=rng.randint(0, 3500))))  # fmt: skip
        if len(batch) == 5_000:
            made = Comment.objects.bulk_create(batch)
            for comment in made:
                comment.path, comment.root_id = path_segment(comment.pk), comment.pk
            Comment.objects.bulk_update(made, ["path", "root"])
            batch = []
    call_command("shell", "-c", "from django.db import connection; connection.cursor().execute('ANALYZE')")
    author = authors[0]
    posts = [
        f"Post {n} about the {rng.choice(WORDS)} and the {rng.choice(WORDS)}, written once."
        + (" Source: https://example.org/report" if n % 3 == 0 else "")
        for n in range(args.posts + 20)
    ]

    def timed(steps: list[str]) -> tuple[list[float], dict[str, list[float]]]:
        settings.VIGIL_COMMENTS_PIPELINE = steps
        totals, per_step = [], {name: [] for name in steps}
        for index, text in enumerate(posts):
            submission = pipeline.Submission(author=author, text=text, now=timezone.now())
            started = time.perf_counter()
            held = pipeline.comment_screen(submission=submission)
            elapsed = (time.perf_counter() - started) * 1000
            assert held is None, (text, held)
            if index >= 20:
                totals.append(elapsed)
                for name in steps:  # each step on its own, for the breakdown
                    fresh = pipeline.Submission(author=author, text=text, now=timezone.now())
                    started = time.perf_counter()
                    pipeline.STEPS[name](fresh)
                    per_step[name].append((time.perf_counter() - started) * 1000)
        return totals, per_step

    steps = list(settings.VIGIL_COMMENTS_PIPELINE)
    full, per_step = timed(steps)
    empty, _ = timed([])
    print(f"cpu cores: {os.cpu_count()}; {WatchedPattern.objects.count():,} watched patterns; "
          f"{Comment.objects.count():,} comments in the last hour; {args.posts} posts")  # fmt: skip
    for label, values in (("the whole pipeline", full), ("an empty pipeline", empty)):
        print(f"  {label:<22} p50 {statistics.median(values):6.3f} ms   p95 {_percentile(values, 0.95):6.3f} ms   "
              f"mean {statistics.fmean(values):6.3f} ms")  # fmt: skip
    for name, values in per_step.items():
        print(f"    step {name:<14} p50 {statistics.median(values):6.3f} ms   p95 {_percentile(values, 0.95):6.3f} ms")


if __name__ == "__main__":
    main()
