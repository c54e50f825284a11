"""Before the suite: do PostgreSQL and Redis answer at the configured addresses?

Prints, one a line, the name of each service that nothing answers for ("postgres", "redis"): scripts/test starts
throwaway ones in their place. A service that answers but turns the suite away (a wrong password, say) is a mistake
to fix, not to work around: one clear line for each, and exit status 1.
"""

import os
import socket
import sys
from urllib.parse import urlparse

HINT = "Fix TEST_DATABASE_URL / TEST_REDIS_URL (where nothing listens, the suite starts a throwaway server instead)."


def answers(host: str, port: int) -> bool:
    """Does anything accept a TCP connection there?"""
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        return False
    return True


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
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} does not let the suite in ({first}). {HINT}"
    return None


def check_redis(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        parts = urlparse(url)
        return f"Redis at {parts.hostname}:{parts.port or 6379} does not let the suite in ({exc}). {HINT}"
    return None


def main() -> int:
    services = [
        ("postgres", os.environ["DATABASE_URL"], 5432, check_postgres),
        ("redis", os.environ["REDIS_URL"], 6379, check_redis),
    ]
    problems = []
    for name, url, default_port, check in services:
        parts = urlparse(url)
        if not answers(parts.hostname or "127.0.0.1", parts.port or default_port):
            print(name)
        elif problem := check(url):
            problems.append(problem)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
