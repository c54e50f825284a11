"""Before the suite: are PostgreSQL and Redis reachable? One clear line for each that is not."""

import os
import sys
from urllib.parse import urlparse

START_HINT = "Start it with `docker compose up -d db redis`, or your system's service manager."


def check_postgres(url: str) -> str | None:
    import psycopg2

    parts = urlparse(url)
    try:
        psycopg2.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or "",
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432} ({first}). {START_HINT}"
    return None


def check_redis(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        parts = urlparse(url)
        return f"Redis is not reachable at {parts.hostname}:{parts.port or 6379} ({exc}). {START_HINT}"
    return None


def main() -> int:
    problems = [
        problem
        for problem in (
            check_postgres(os.environ["DATABASE_URL"]),
            check_redis(os.environ["REDIS_URL"]),
        )
        if problem
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
