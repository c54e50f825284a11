"""Shared pieces for the benchmarks: a throwaway database, a gunicorn server, timing of HTTP requests, a raw HTTP/1.1
client for load generators, and the CPU time of processes."""

import asyncio
import http.client
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def bench_env(*, database: str, redis_db: int, settings: str = "config.settings", **extra: str) -> dict[str, str]:
    """Production-shaped settings (DEBUG off) on a database of the benchmark's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings,
            "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VIGIL_IP_HASH_KEY": "bench-only-address-hash-key-0123456789abcdef",
            "DJANGO_HTTPS": "0",
            "DJANGO_STATIC_MANIFEST": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "DJANGO_VAR_DIR": str(ROOT / "var" / "bench"),
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def recreate_database(name: str) -> None:
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


@contextmanager
def gunicorn(env: dict[str, str], *, port: int, workers: int = 2, wsgi: str = "config.wsgi:application"):
    command = [
        str(Path(PY).parent / "gunicorn"), wsgi, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--log-level", "warning", "--worker-tmp-dir", "/dev/shm",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _ = request(port, "/healthz")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not answer /healthz within 30 s")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def request(port: int, path: str, connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": "127.0.0.1"})
    response = connection.getresponse()
    body = response.read()
    if own:
        connection.close()
    return response.status, body


def time_requests(port: int, paths: list[str], *, count: int, warmup: int = 20) -> list[float]:
    """Sequential requests over one keep-alive connection, cycling through `paths`; milliseconds per response."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings = []
    for index in range(warmup + count):
        path = paths[index % len(paths)]
        started = time.perf_counter()
        status, _ = request(port, path, connection)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        if index >= warmup:
            timings.append(elapsed)
    connection.close()
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[max(0, int(round(0.95 * len(ordered))) - 1)],
        "mean": statistics.fmean(ordered),
    }


# --- For load generators: one connection per request, as a surge's visitors make them ------------------------


async def raw_request(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers, body


def raw_get(path: str, cookie: str = "") -> bytes:
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n".encode()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        found.extend(descendants(int(child)))
    return found


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def _redis_config(values: dict[str, str]) -> None:
    for name, value in values.items():
        subprocess.run(["redis-cli", "config", "set", name, value], check=True, capture_output=True)


@contextmanager
def redis_persistence(fsync: str = "everysec"):
    """The machine's Redis with the persistence production runs (the signing intake is used only on a Redis that
    persists): appendonly yes with `fsync` ("everysec" as docker-compose.yml, or "always"), or "off" (no file, and
    so no intake). What was set before is put back afterwards."""
    found = subprocess.run(["redis-cli", "config", "get", "append*"], check=True, capture_output=True, text=True)
    pairs = found.stdout.split()
    before = {name: value for name, value in zip(pairs[::2], pairs[1::2], strict=True)
              if name in ("appendonly", "appendfsync")}  # fmt: skip
    try:
        if fsync == "off":
            _redis_config({"appendonly": "no"})
        else:
            _redis_config({"appendfsync": fsync, "appendonly": "yes"})
            for _ in range(300):  # turning the append-only file on rewrites it in the background first
                info = subprocess.run(["redis-cli", "info", "persistence"], capture_output=True, text=True).stdout
                if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
                    break
                time.sleep(0.1)
        yield
    finally:
        _redis_config(before)
