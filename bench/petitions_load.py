"""Signing under load: gunicorn with PostgreSQL and Redis, 64 concurrent clients, against a trivial view's ceiling.

Usage: .venv/bin/python bench/petitions_load.py [--seconds 30] [--clients 64] [--workers 4] [--port 8201]
       [--worker-class sync|gthread] [--threads 4] [--worker-connections 8] [--confirm-share 0.5]
       [--worker-concurrency 2] [--no-intake] [--redis-appendfsync everysec|always|off]

Method
- Its own database (vigil_bench_petitions, dropped and migrated afresh), Redis db 7 (cache, rate limits) and db 6
  (broker). Production settings (DEBUG off, the whole middleware stack, CSRF on) plus one trivial view that runs
  `SELECT 1` (bench/urls_petitions.py). Rate limits stay on (their Redis counters are part of the cost) but are
  raised to 1,000,000/h per address and per e-mail, since every request comes from 127.0.0.1 and duplicates are
  sent on purpose. E-mail goes to Django's dummy backend.
- gunicorn (--workers processes of --worker-class, with --threads threads each for gthread, and at most
  --worker-connections connections each, as the Dockerfile runs it) on 127.0.0.1:--port,
  the same server and settings for both phases; one Celery worker (--worker-concurrency pool processes, 2 as in
  docker-compose.yml; both queues: e-mail and counts; at the
  production default's lower CPU priority, VIGIL_WORKER_NICENESS) and beat (the intake drain and the outbox pump
  every second, the count flush every 2 s), as production runs them. Signing goes through the intake (the
  production default: signatures queued in Redis, written in batches by the worker); --no-intake writes each in
  its request instead. The intake is used only on a Redis that persists: for the run, the machine's Redis is set
  (CONFIG SET) to appendonly yes with --redis-appendfsync (everysec by default, as docker-compose.yml; "always"
  fsyncs before every answer; "off" turns the append-only file off, and so the intake) and put back afterwards.
- The load generator is another process: asyncio with raw HTTP/1.1 sockets (one connection per request, as
  gunicorn's sync workers close them), --clients concurrent clients. Each client fetches the petition page once for
  its CSRF cookie, then loops. Phase 1: the trivial view for --seconds/2. Phase 2: for --seconds, each client
  POSTs the signing form; 85 % with a new address, 15 % repeating an address already sent (in another spelling:
  case, dots, +tag on gmail.com), and, interleaved (a share --confirm-share of the requests while there are links
  to confirm, 0.5 by default: about one confirmation per signature; 0 measures signing alone), POSTs confirmation
  links for signatures the generator has seen committed (it reads new pending ids from the database every 0.5 s
  and signs the tokens with the site's key).
- Reported: requests/s, accepted signatures/s (303 answers), p50 and p99 latency, errors (non-2xx/3xx and socket
  errors), and afterwards: the time until every accepted signature is in the database (the intake empty), rows,
  rows per canonical address (duplicates must be 0), pending/confirmed, the outbox, the time until the public count
  equals the confirmed rows after the load stops, the time until every confirmation e-mail has been sent, and the
  machine's load average (1 min) at the start and end of each phase.
- Also reported: CPU seconds used in each phase by the web server, the Celery worker and beat, PostgreSQL's
  backends on the benchmark database and the load generator (from /proc), and so CPU milliseconds per request.
  On a machine shared with other work, requests per second say mostly how busy the neighbours were; CPU per
  request says what a request costs, and so what an idle machine would serve.

Caveat: the machine has 2 cores, shared by gunicorn, PostgreSQL, Redis, the worker, beat and the load generator,
and possibly by other people's test runs.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import descendants, process_cpu, psql, raw_get, raw_request, redis_persistence  # noqa: E402

DB_NAME = "vigil_bench_petitions"
SLUG = "bench-petition"
INTAKE_KEY = "vigil:1:signatures:intake:queue"  # the cache's KEY_PREFIX and version, then the intake's name
ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings_petitions",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-1f6c0e9b7a2d4c8e9f0a1b2c3d4e5f60718293a4",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "VIGIL_IP_HASH_KEY": "bench-only-address-key",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379/7",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/6",
    "DJANGO_HTTPS": "0",
    "DJANGO_STATIC_MANIFEST": "0",
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "VIGIL_SIGN_RATE_PER_IP": "1000000/h",
    "VIGIL_SIGN_RATE_PER_EMAIL": "1000000/h",
    "DJANGO_LOG_LEVEL": "WARNING",
    "DJANGO_CONN_MAX_AGE": "600",
}


# --- The load generator (runs in its own process: --client) -----------------------------------------------------


def _post(path: str, form: dict, token: str) -> bytes:
    body = urlencode({**form, "csrfmiddlewaretoken": token}).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: csrftoken={token}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def _spelling(n: int, rng: random.Random) -> str:
    """Person n's address, in one of several spellings that all have one canonical form."""
    if n % 3 == 0:
        return rng.choice(
            [f"bench.person.{n}@gmail.com", f"BenchPerson{n}+x@googlemail.com", f"benchperson{n}@GMAIL.com"]
        )
    return rng.choice([f"person{n}@example.org", f"Person{n}@Example.org"])


async def _client_main(args) -> None:
    import psycopg2
    from django.core import signing

    os.environ.update(ENV)
    from django.conf import settings

    settings.configure(SECRET_KEY=ENV["DJANGO_SECRET_KEY"])
    port = args.port
    results = {"trivial": [], "sign": [], "confirm": []}  # (phase, latency, status)
    confirm_queue: asyncio.Queue = asyncio.Queue()
    sent_people: list[int] = []
    counter = {"next": 0}
    connection = psycopg2.connect(ENV["DATABASE_URL"])
    connection.autocommit = True

    async def cookie_token() -> str:
        _status, headers, _ = await raw_request(port, raw_get(f"/petitions/{SLUG}/"))
        for value in headers.get("set-cookie", []):
            if value.startswith("csrftoken="):
                return value.split(";", 1)[0].split("=", 1)[1]
        raise RuntimeError("no CSRF cookie")

    tokens = [await cookie_token() for _ in range(args.clients)]  # before the phases, outside their figures
    server_pids = [int(pid) for pid in args.server_pids.split(",") if pid]
    cpu: dict = {}

    async def run_phase(name: str, seconds: float, make_request) -> None:
        deadline = time.monotonic() + seconds
        before = _cpu_sample(connection, server_pids)

        async def one_client(i: int) -> None:
            rng = random.Random(i)
            token = tokens[i]
            while time.monotonic() < deadline:
                kind, raw = make_request(rng, token)
                start = time.perf_counter()
                try:
                    status, _, _ = await raw_request(port, raw)
                except OSError:
                    status = 0
                results[kind].append((time.perf_counter() - start, status))

        await asyncio.gather(*(one_client(i) for i in range(args.clients)))
        after = _cpu_sample(connection, server_pids)
        cpu[name] = {part: round(after[part] - before.get(part, 0.0), 2) for part in after}

    def trivial_request(rng, token):
        return "trivial", raw_get("/bench/trivial/")

    def sign_request(rng, token):
        if not confirm_queue.empty() and rng.random() < args.confirm_share:
            return "confirm", _post(f"/petitions/confirm/{confirm_queue.get_nowait()}/", {}, token)
        if sent_people and rng.random() < 0.15:
            person = rng.choice(sent_people)
        else:
            person = counter["next"]
            counter["next"] += 1
            sent_people.append(person)
        form = {"first_name": "Bench", "last_name": f"Person {person}", "email": _spelling(person, rng),
                "country": rng.choice(["GB", "FR", "DE", "US"]), "region": rng.choice(["North", "South", ""]),
                "town": "Benchtown", "show_publicly": "on", "website": "", "utm_source": "bench"}  # fmt: skip
        return "sign", _post(f"/petitions/{SLUG}/sign/", form, token)

    async def feed_confirmations(stop: asyncio.Event) -> None:
        last = 0
        signer = signing.TimestampSigner(salt="signatures.confirm")
        while not stop.is_set():
            rows = await asyncio.to_thread(_pending_after, connection, last)
            for pk, generation in rows:
                confirm_queue.put_nowait(signer.sign(f"{pk}.{generation}"))
                last = max(last, pk)
            await asyncio.sleep(0.5)

    load = {"trivial": [os.getloadavg()[0]]}
    started = time.time()
    await run_phase("trivial", args.seconds / 2, trivial_request)
    load["trivial"].append(os.getloadavg()[0])
    stop = asyncio.Event()
    feeder = asyncio.create_task(feed_confirmations(stop))
    sign_started = time.time()
    load["sign"] = [os.getloadavg()[0]]
    await run_phase("sign", args.seconds, sign_request)
    load["sign"].append(os.getloadavg()[0])
    stop.set()
    await feeder
    print(json.dumps({"results": results, "started": started, "sign_started": sign_started,
                      "sign_stopped": time.time(), "people": counter["next"], "load": load, "cpu": cpu}))  # fmt: skip


def _cpu_sample(connection, server_pids: list[int]) -> dict:
    """CPU seconds used so far by this benchmark's processes: the web server (gunicorn and its workers), the Celery
    worker and beat, PostgreSQL's backends on the benchmark database, and this load generator. Unlike requests
    per second, CPU per request does not depend on what else the shared machine is doing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [DB_NAME])
        backends = [pid for (pid,) in cursor.fetchall()]
    web, celery = (server_pids + [0])[0], server_pids[1:]
    return {
        "web": sum(process_cpu(pid) for pid in descendants(web)) if web else 0.0,
        "celery": sum(process_cpu(pid) for root in celery for pid in descendants(root)),
        "postgres": sum(process_cpu(pid) for pid in backends),
        "load_generator": time.process_time(),
    }


def _pending_after(connection, last: int) -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, generation FROM signatures_signature WHERE state = 'pending' AND id > %s "
            "ORDER BY id LIMIT 5000",
            [last],
        )
        return cursor.fetchall()


# --- The orchestrator ------------------------------------------------------------------------------------------------


def _summary(samples: list[tuple[float, int]], seconds: float, ok=lambda s: 200 <= s < 400) -> dict:
    latencies = sorted(latency * 1000 for latency, _ in samples)
    good = [s for _, s in samples if ok(s)]
    return {
        "requests": len(samples),
        "per_second": round(len(samples) / seconds, 1),
        "ok": len(good),
        "ok_per_second": round(len(good) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1) if latencies else None,
        "errors": dict(Counter(str(status) for _, status in samples if not ok(status))),
    }


def _intake_backlog() -> int:
    """Signatures accepted but not yet written (the intake's Redis list, in the cache's database 7)."""
    out = subprocess.run(["redis-cli", "-n", "7", "--raw", "llen", INTAKE_KEY], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8201)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread only)")
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=0,
        help="connections a gthread worker takes at once (gunicorn's default, 1000, if 0)",
    )
    parser.add_argument("--confirm-share", type=float, default=0.5)
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery pool processes (compose runs 2)")
    parser.add_argument("--no-intake", action="store_true", help="write each signature in the request (no intake)")
    parser.add_argument(
        "--redis-appendfsync",
        default="everysec",
        choices=["everysec", "always", "off"],
        help="the machine's Redis persistence for the run (off: no append-only file, so no intake)",
    )
    parser.add_argument("--server-pids", default="", help=argparse.SUPPRESS)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(_client_main(args))
        return

    env = {**os.environ, **ENV, "VIGIL_SIGN_INTAKE": "0" if args.no_intake else "1"}
    py = str(ROOT / ".venv" / "bin" / "python")
    print(__doc__.split("Caveat")[0].strip(), "\n")
    with redis_persistence(args.redis_appendfsync):
        _run(args, env, py)


def _run(args, env: dict, py: str) -> None:
    psql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    psql(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(["redis-cli", "-n", "7", "flushdb"], check=True, capture_output=True)
    subprocess.run(["redis-cli", "-n", "6", "flushdb"], check=True, capture_output=True)
    setup = (
        "import django; django.setup();"
        "from petitions.models import Petition; from petitions.services.editing import petition_create; "
        "from petitions.services.lifecycle import petition_open;"
        f"p = petition_create(petition=Petition(slug='{SLUG}', title='Bench petition', target_name='Someone',"
        " ask='Count us.', body='<p>Load.</p>', goal=100000), by=None); petition_open(petition=p); print(p.pk)"
    )
    petition_id = int(subprocess.run([py, "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True,
                                     text=True).stdout.strip().splitlines()[-1])  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    processes = []
    logs = [open(tmp / name, "wb") for name in ("gunicorn.log", "worker.log", "beat.log")]  # noqa: SIM115
    try:
        threads = ["--threads", str(args.threads)] if args.worker_class == "gthread" else []
        if args.worker_connections:
            threads += ["--worker-connections", str(args.worker_connections)]
        processes.append(subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{args.port}", "--workers",
             str(args.workers), "--worker-class", args.worker_class, *threads, "--backlog", "2048",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT,
        ))  # fmt: skip
        processes.append(subprocess.Popen(
            [py, "-m", "celery", "-A", "config", "worker", f"--concurrency={args.worker_concurrency}",
             "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
            cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT,
        ))  # fmt: skip
        processes.append(subprocess.Popen(
            [py, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING", "--schedule", str(tmp / "beat")],
            cwd=ROOT, env=env, stdout=logs[2], stderr=subprocess.STDOUT,
        ))  # fmt: skip
        for _ in range(100):
            if (
                subprocess.run(
                    ["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{args.port}/bench/trivial/"]
                ).returncode
                == 0
            ):
                break
            time.sleep(0.2)
        client = subprocess.run(
            [py, str(Path(__file__)), "--client", "--seconds", str(args.seconds), "--clients", str(args.clients),
             "--port", str(args.port), "--confirm-share", str(args.confirm_share),
             "--server-pids", ",".join(str(process.pid) for process in processes)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        stopped = time.time()
        data = json.loads(client.stdout.strip().splitlines()[-1])

        def confirmed_rows() -> int:
            sql = f"SELECT count(*) FROM signatures_signature WHERE petition_id={petition_id} AND state='confirmed'"
            return int(psql(sql, DB_NAME))

        def tally() -> int:
            sql = f"SELECT confirmed FROM signatures_petitiontally WHERE petition_id={petition_id}"
            return int(psql(sql, DB_NAME) or 0)

        written_after = None
        while time.time() - stopped < 60:
            if _intake_backlog() == 0:
                written_after = time.time() - stopped
                break
            time.sleep(0.1)
        exact_after = None
        while time.time() - stopped < 30:
            if tally() == confirmed_rows():
                exact_after = time.time() - stopped
                break
            time.sleep(0.1)
        mail_after = None
        while time.time() - stopped < 60:
            if psql("SELECT count(*) FROM core_outboundemail WHERE sent_at IS NULL", DB_NAME) == "0":
                mail_after = time.time() - stopped
                break
            time.sleep(0.2)
        rows = psql("SELECT state, count(*) FROM signatures_signature GROUP BY state ORDER BY state", DB_NAME)
        duplicates = psql("SELECT count(*) FROM (SELECT petition_id, canonical_email FROM signatures_signature "
                           "GROUP BY 1, 2 HAVING count(*) > 1) d", DB_NAME)  # fmt: skip
        outbox = psql("SELECT count(*), count(sent_at) FROM core_outboundemail", DB_NAME)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
    trivial = _summary(data["results"]["trivial"], args.seconds / 2)
    sign_seconds = data["sign_stopped"] - data["sign_started"]
    sign = _summary(data["results"]["sign"], sign_seconds, ok=lambda s: s == 303)
    confirm = _summary(data["results"]["confirm"], sign_seconds, ok=lambda s: s == 200)
    five_xx = sum(1 for kind in ("sign", "confirm", "trivial") for _, s in data["results"][kind] if s >= 500 or s == 0)
    server = f"{args.workers} {args.worker_class} workers" + (
        f" x {args.threads} threads, {args.worker_connections or 1000} connections each"
        if args.worker_class == "gthread"
        else ""
    )
    niceness = os.environ.get("VIGIL_WORKER_NICENESS", "10 (default)")
    print(f"cpu cores: {os.cpu_count()}   gunicorn: {server}   clients: {args.clients}   "
          f"confirm share: {args.confirm_share}   intake: {'off' if args.no_intake else 'on'}   "
          f"redis appendfsync: {args.redis_appendfsync}   "
          f"celery: {args.worker_concurrency} processes at niceness {niceness}")  # fmt: skip
    print(f"load average (1 min) at start/end: trivial phase {data['load']['trivial']}, "
          f"signing phase {data['load']['sign']}")  # fmt: skip
    print(f"trivial view ({args.seconds / 2:.0f} s): {json.dumps(trivial)}")
    print(f"signing      ({sign_seconds:.0f} s): {json.dumps(sign)}")
    print(f"confirming   (same time): {json.dumps(confirm)}")
    share = 100 * sign["ok_per_second"] / max(trivial["per_second"], 1)
    print(f"accepted signatures/s: {sign['ok_per_second']} = {share:.0f} % of the trivial view's requests/s")
    print(f"5xx or socket errors: {five_xx}")
    print(
        "every accepted signature written to the database: "
        + (f"{written_after:.1f} s after the load stopped" if written_after is not None else "NOT within 60 s")
        + ("" if not args.no_intake else " (no intake: written in the request)")
    )
    print(f"people sent: {data['people']}; rows by state: {rows.replace(chr(10), ', ')}")
    print(f"rows sharing a canonical address (must be 0): {duplicates}")
    print(f"outbox (rows, sent when the count was checked): {outbox}")
    print("every confirmation e-mail sent: " + (f"{mail_after:.1f} s after the load stopped" if mail_after is not None
                                                 else "NOT within 60 s"))  # fmt: skip
    print(f"sign-flow requests/s (signing + confirming): {sign['per_second'] + confirm['per_second']:.1f}")
    cpu = data["cpu"]
    trivial_ms = 1000 * (cpu["trivial"]["web"] + cpu["trivial"]["postgres"]) / max(trivial["requests"], 1)
    sign_requests = sign["requests"] + confirm["requests"]
    sign_ms = 1000 * (cpu["sign"]["web"] + cpu["sign"]["postgres"]) / max(sign_requests, 1)
    mail_ms = 1000 * cpu["sign"]["celery"] / max(sign["ok"], 1)
    print(f"CPU seconds used per phase (web server, celery worker + beat, postgres backends, load generator): "
          f"{json.dumps(cpu)}")  # fmt: skip
    print(f"CPU per request, web server + postgres: trivial {trivial_ms:.2f} ms, sign flow {sign_ms:.2f} ms; "
          f"worker (intake writes, pump, counts) per accepted signature: {mail_ms:.2f} ms")  # fmt: skip
    print(f"=> on an idle machine the sign flow's ceiling is about {100 * trivial_ms / max(sign_ms, 0.001):.0f} % of "
          "the trivial view's (CPU-bound; before the worker's and the load generator's share)")  # fmt: skip
    exact = f"{exact_after:.1f} s" if exact_after is not None else "NOT within 30 s"
    print(
        f"public count equal to the confirmed rows after the load stopped: {exact} "
        f"(now: tally {tally()}, confirmed rows {confirmed_rows()})"
    )
    print(f"logs: {tmp}")


if __name__ == "__main__":
    main()
