"""The throwaway servers that fault drills stop and kill, and that `make test` starts when nothing answers."""

import shlex
import socket
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.throwaway import ThrowawayPostgres, ThrowawayRedis, ensure_installed

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module", autouse=True)
def _installed():
    ensure_installed()


def _refuses(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=2).close()
    except psycopg2.OperationalError:
        return True
    return False


def _redis_refuses(url: str) -> bool:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)).ping()
    except redis.ConnectionError:
        return True
    return False


def _gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for a parent that is not this test."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_postgres_keeps_committed_rows_across_an_immediate_stop(tmp_path):
    with ThrowawayPostgres(tmp_path / "pg") as pg:
        assert pg.port not in (5432, 6379)
        url = pg.create_database("drill")
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE TABLE note (body text); INSERT INTO note VALUES ('kept')")
        connection.close()

        pg.stop(mode="immediate")
        assert not pg.running()
        assert _refuses(url)

        pg.start()
        assert pg.running()
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT body FROM note")
            assert cursor.fetchall() == [("kept",)]
        connection.close()
    assert not pg.running()
    assert _refuses(url)
    assert (tmp_path / "pg" / "data" / "PG_VERSION").exists()
    assert "database system is shut down" in (tmp_path / "pg" / "postgres.log").read_text()


def test_postgres_copies_a_template(tmp_path):
    with ThrowawayPostgres(tmp_path / "pg") as pg:
        source = pg.create_database("source")
        with psycopg2.connect(source) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE TABLE seeded (n int); INSERT INTO seeded VALUES (7)")
        connection.close()
        copy = pg.create_database("copy", template="source")
        assert copy == f"postgres://postgres@127.0.0.1:{pg.port}/copy"
        with psycopg2.connect(copy) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT n FROM seeded")
            assert cursor.fetchall() == [(7,)]
        connection.close()


def test_redis_replays_its_append_only_file_after_a_kill(tmp_path):
    with ThrowawayRedis(tmp_path / "redis", appendonly=True, appendfsync="everysec") as server:
        client = redis.Redis.from_url(server.url)
        client.rpush("drill", "a", "b", "c")
        first_pid = server.pid

        server.kill()
        assert server.pid is None
        assert _redis_refuses(server.url)

        server.start()
        assert server.pid not in (None, first_pid)
        assert client.lrange("drill", 0, -1) == [b"a", b"b", b"c"]
        client.close()
    assert server.pid is None
    assert (tmp_path / "redis" / "appendonlydir").is_dir()
    assert not list((tmp_path / "redis").glob("*.rdb"))


def test_redis_without_append_only_file_forgets_everything_on_a_kill(tmp_path):
    server = ThrowawayRedis(tmp_path / "redis", appendonly=False)
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        client.rpush("drill", "a")
        server.kill()
        server.start()
        assert client.exists("drill") == 0
        client.close()
    finally:
        server.stop()
    assert server.pid is None


def test_the_command_line_starts_servers_for_a_shell_and_stops_them(tmp_path):
    directory = tmp_path / "services"

    def throwaway(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "tests.throwaway", *args, "--dir", str(directory)],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip

    output = throwaway("up", "--postgres", "--redis", "--database", "vigil")
    try:
        environment = {}
        for line in output.splitlines():
            export, assignment = shlex.split(line)
            assert export == "export"
            name, value = assignment.split("=", 1)
            environment[name] = value
        assert sorted(environment) == ["CELERY_BROKER_URL", "DATABASE_URL", "REDIS_URL"]
        assert environment["DATABASE_URL"].endswith("/vigil")
        assert environment["REDIS_URL"].endswith("/15") and environment["CELERY_BROKER_URL"].endswith("/14")
        psycopg2.connect(environment["DATABASE_URL"], connect_timeout=5).close()
        assert redis.Redis.from_url(environment["REDIS_URL"]).ping()
        assert redis.Redis.from_url(environment["CELERY_BROKER_URL"]).ping()
        # The servers outlive the command that started them.
        postgres_pid = int((directory / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
        redis_pid = int((directory / "redis" / "redis.pid").read_text())
    finally:
        throwaway("down")

    assert _refuses(environment["DATABASE_URL"])
    assert _redis_refuses(environment["REDIS_URL"])
    for pid in (postgres_pid, redis_pid):
        assert _gone(pid)
    assert not (directory / "state.json").exists()


def test_a_start_that_fails_says_why_with_the_end_of_the_log(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))  # bound, not listening: the port is taken and nothing answers on it
        server = ThrowawayRedis(tmp_path / "redis", port=squatter.getsockname()[1])
        with pytest.raises(RuntimeError, match="Address already in use") as failure:
            server.start(timeout=5)
    assert str(tmp_path / "redis" / "redis.log") in str(failure.value)
    assert server.pid is None
