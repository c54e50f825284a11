"""A surge at the door: the pages people land on, the whole signing flow, and a signed-in reader, in one run.

Usage: .venv/bin/python bench/surge.py [--seconds 15] [--clients 64] [--workers N] [--port 8202] [--fresh]
       [--signatures 500000] [--only baseline,petition,...]

Method
- Its own database, cloned for each run from a template database (vigil_bench_surge_seed: migrated, the demo
  content, the demo petition with --signatures extra confirmed signatures; made once, remade with --fresh or when
  the code's migrations are newer than it). Redis databases 9 (cache, rate limits) and 8 (broker), emptied first.
- Production settings (DEBUG off, the whole middleware stack, CSRF on). Rate limits stay on but are raised to
  1,000,000/h, since every request comes from 127.0.0.1. E-mail goes to Django's dummy backend.
- The server as the Dockerfile runs it: its CMD's gunicorn options (gthread, threads, worker connections, access
  log) read from the Dockerfile, its WEB_CONCURRENCY workers unless --workers says otherwise; a Celery worker (2
  processes, as docker-compose.yml) and beat, as in production.
- The load generator is another process: asyncio, raw HTTP/1.1, one connection per request ("Connection: close"),
  --clients concurrent clients, no cookies unless the step needs them: each request of the page phases is a new
  visitor. Phases, --seconds each, in this order:
    baseline   GET /robots.txt: the whole middleware stack, no work of its own
    petition   GET the demo petition page (its petition holds the demo's signatures plus --signatures)
    article    GET the demo story
    home       GET /
    discussion GET the story's discussion, page 1
    flow       each client, as a new signer: GET the petition page (keeping its CSRF cookie), POST the sign form
               (a new address), GET the thanks page it is sent to; and, whenever there is a confirmation link to
               follow, GET the link's page and POST its button. Links come from the signatures the worker has
               written (read from the database every 0.5 s) and are signed with the site's key, as the e-mail's.
  Reported per phase: requests/s, p50/p99 latency, errors (non-2xx/3xx or socket errors), the ratio to the
  baseline's requests/s; for the flow: per step, and complete flows (signed and confirmed) per second x 5 requests.
- After the flow: the time until the petition page (as a new visitor sees it) shows the count of confirmed rows.
- A signed-in reader: 200 requests each of the story and its discussion, one at a time, with the demo reader's
  session, after the load (p50/p99).
- CPU seconds of the web server per request in each phase (from /proc): on a machine shared with other work,
  requests/s say partly how busy the neighbours were; CPU per request says what a request costs.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import descendants, process_cpu, psql, raw_get, raw_request, redis_persistence  # noqa: E402

SEED_DB = "vigil_bench_surge_seed"
DB_NAME = "vigil_bench_surge"
PETITION = "/petitions/stop-selling-face-recognition-to-police/"
ARTICLE = "/news/face-recognition-sold-to-police/"
PAGES = {
    "baseline": "/robots.txt",
    "petition": PETITION,
    "article": ARTICLE,
    "home": "/",
    "discussion": ARTICLE + "discussion/",
}
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-7d2e9c1b4a6f8e0d3c5b7a9f1e2d4c6b8a0f",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "VIGIL_IP_HASH_KEY": "bench-only-address-key",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/8",
    "DJANGO_HTTPS": "0",
    "DJANGO_STATIC_MANIFEST": "0",
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "VIGIL_SIGN_RATE_PER_IP": "1000000/h",
    "VIGIL_SIGN_RATE_PER_EMAIL": "1000000/h",
    "DJANGO_LOG_LEVEL": "WARNING",
    "DJANGO_VAR_DIR": str(ROOT / "var" / "bench-surge"),
}
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
COUNT = re.compile(rb'petition-progress__count"><strong>([\d,]+)</strong>')


# --- The load generator (its own process: --client) --------------------------------------------------------------


def _post(path: str, form: dict, cookie: str) -> bytes:
    body = urlencode(form).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def _csrf(headers: dict, body: bytes, cookie: str = "") -> tuple[str, str]:
    """The form's token and the cookie to send with it (the one just set, or the one the client had)."""
    for value in headers.get("set-cookie", []):
        if value.startswith("csrftoken="):
            cookie = value.split(";", 1)[0]
    match = CSRF_INPUT.search(body)
    return (match.group(1).decode() if match else ""), cookie


async def _client_main(args) -> None:
    import psycopg2
    from django.conf import settings
    from django.core import signing

    settings.configure(SECRET_KEY=ENV["DJANGO_SECRET_KEY"])
    port = args.port
    server_pids = [int(pid) for pid in args.server_pids.split(",") if pid]
    connection = psycopg2.connect(ENV["DATABASE_URL"])
    connection.autocommit = True
    results: dict = {}
    cpu: dict = {}
    flow_people = {"next": args.first_signer}

    async def run_phase(name: str, one_round) -> None:
        samples: dict = {}
        deadline = time.monotonic() + args.seconds
        before = _web_cpu(server_pids)
        started = time.monotonic()

        async def timed(step: str, raw: bytes, ok) -> tuple[int, dict, bytes] | None:
            begin = time.perf_counter()
            try:
                status, headers, body = await raw_request(port, raw)
            except OSError:
                status, headers, body = 0, {}, b""
            samples.setdefault(step, []).append((time.perf_counter() - begin, status, ok(status)))
            return (status, headers, body) if ok(status) else None

        async def one_client(i: int) -> None:
            rng = random.Random(i)
            while time.monotonic() < deadline:
                await one_round(timed, rng)

        await asyncio.gather(*(one_client(i) for i in range(args.clients)))
        elapsed = time.monotonic() - started
        cpu[name] = _web_cpu(server_pids) - before
        results[name] = {"seconds": elapsed, "samples": samples}

    def page_round(path: str):
        async def one_round(timed, rng):
            await timed("get", raw_get(path), lambda s: s == 200)

        return one_round

    confirm_queue: asyncio.Queue = asyncio.Queue()

    async def flow_round(timed, rng):
        if not confirm_queue.empty():
            link = f"/petitions/confirm/{confirm_queue.get_nowait()}/"
            got = await timed("confirm_get", raw_get(link), lambda s: s == 200)
            if got is None:
                return
            token, cookie = _csrf(got[1], got[2])
            await timed("confirm_post", _post(link, {"csrfmiddlewaretoken": token}, cookie), lambda s: s == 200)
            return
        got = await timed("page", raw_get(PETITION), lambda s: s == 200)
        if got is None:
            return
        token, cookie = _csrf(got[1], got[2])
        person = flow_people["next"]
        flow_people["next"] += 1
        form = {"first_name": "Surge", "last_name": f"Signer {person}", "email": f"surge{person}@example.org",
                "country": rng.choice(["GB", "FR", "DE", "US"]), "region": "", "town": "Benchtown",
                "show_publicly": "on", "website": "", "csrfmiddlewaretoken": token}  # fmt: skip
        got = await timed("sign", _post(PETITION + "sign/", form, cookie), lambda s: s == 303)
        if got is None:
            return
        await timed("thanks", raw_get(got[1]["location"][0], cookie), lambda s: s == 200)

    async def feed_confirmations(stop: asyncio.Event) -> None:
        last = 0
        signer = signing.TimestampSigner(salt="signatures.confirm")
        while not stop.is_set():
            rows = await asyncio.to_thread(_pending_after, connection, last)
            for pk, generation in rows:
                confirm_queue.put_nowait(signer.sign(f"{pk}.{generation}"))
                last = max(last, pk)
            await asyncio.sleep(0.5)

    phases = [name for name in [*PAGES, "flow"] if name in args.only.split(",")]
    for name in phases:
        if name == "flow":
            stop = asyncio.Event()
            feeder = asyncio.create_task(feed_confirmations(stop))
            await run_phase("flow", flow_round)
            stop.set()
            await feeder
            results["flow"]["unconfirmed_links_left"] = confirm_queue.qsize()
        else:
            await run_phase(name, page_round(PAGES[name]))
    print(json.dumps({"results": results, "cpu": cpu}))


def _web_cpu(server_pids: list[int]) -> float:
    return sum(process_cpu(pid) for pid in descendants(server_pids[0])) if server_pids else 0.0


def _pending_after(connection, last: int) -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, generation FROM signatures_signature WHERE state = 'pending' AND id > %s "
            "AND email LIKE 'surge%%' ORDER BY id LIMIT 5000",
            [last],
        )
        return cursor.fetchall()


# --- The orchestrator ------------------------------------------------------------------------------------------------


def _dockerfile_server() -> tuple[list[str], int]:
    """The gunicorn options and worker count the Dockerfile runs, so the benchmark serves as production does."""
    text = (ROOT / "Dockerfile").read_text()
    command = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    workers = int(re.search(r"WEB_CONCURRENCY=(\d+)", text).group(1))
    return command, workers


@dataclass
class Stack:
    processes: list  # gunicorn, the Celery worker, beat
    logs: Path
    command: list[str]  # gunicorn's


@contextlib.contextmanager
def stack(py: str, env: dict, *, port: int, prefix: str, workers: int = 0):
    """The surge's servers: gunicorn as the Dockerfile runs it (its WEB_CONCURRENCY unless `workers` says), a
    2-process Celery worker and beat, up and answering the petition page. Yields a Stack; stops them after."""
    command, dockerfile_workers = _dockerfile_server()
    workers = workers or dockerfile_workers
    command = [str(ROOT / ".venv/bin/gunicorn") if part == "gunicorn" else part for part in command]
    command = [f"127.0.0.1:{port}" if part.startswith("0.0.0.0:") else part for part in command]
    command += ["--workers", str(workers), "--backlog", "2048"]
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    logs = [open(tmp / name, "wb") for name in ("gunicorn.log", "worker.log", "beat.log")]  # noqa: SIM115
    processes = []
    try:
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT))
        processes.append(subprocess.Popen(
            [py, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--without-gossip", "--without-mingle",
             "--loglevel=WARNING"], cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT))  # fmt: skip
        processes.append(subprocess.Popen(
            [py, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING", "--schedule", str(tmp / "beat")],
            cwd=ROOT, env=env, stdout=logs[2], stderr=subprocess.STDOUT))  # fmt: skip
        for _ in range(150):
            curl = ["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{port}{PETITION}"]
            if subprocess.run(curl).returncode == 0:
                break
            time.sleep(0.2)
        time.sleep(3)  # the worker's processes up and beat's first round done
        yield Stack(processes=processes, logs=tmp, command=command)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def load_run(py: str, env: dict, *, port: int, server_pid: int, seconds: float, clients: int, only: str,
             first_signer: int) -> dict:  # fmt: skip
    """One load of this script's generator against servers already running (stack): its results per phase."""
    out = subprocess.run(
        [py, str(ROOT / "bench" / "surge.py"), "--client", "--seconds", str(seconds), "--clients", str(clients),
         "--port", str(port), "--only", only, "--server-pids", str(server_pid), "--first-signer", str(first_signer)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])["results"]


def completed(phase: dict, step: str) -> int:
    """How many requests of one step of a phase succeeded."""
    return sum(1 for sample in phase["samples"].get(step, []) if sample[2])


def against_neighbours(loads: list[tuple[str, dict]], name: str, labels: tuple[str, ...]) -> list[float]:
    """Each load labelled one of `labels` against the mean of the loads just before and after it (the machine
    drifts within a run), for the figure `name`."""
    ratios = []
    for index, (label, figures) in enumerate(loads):
        if label in labels:
            around = (loads[index - 1][1][name] + loads[index + 1][1][name]) / 2
            ratios.append(figures[name] / around)
    return ratios


def _seed(py: str, env: dict, *, fresh: bool, signatures: int) -> None:
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{SEED_DB}'") == "1"
    if exists and not fresh:
        rows = psql("SELECT app || '.' || name FROM django_migrations", SEED_DB).split()
        known = {f"{path.parent.parent.name}.{path.stem}" for path in ROOT.glob("*/migrations/0*.py")}
        if known <= set(rows):  # every migration of the code is in the template
            return
    print(f"making the template database {SEED_DB} (demo content and {signatures:,} signatures) ...", flush=True)
    psql(f'DROP DATABASE IF EXISTS "{SEED_DB}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{SEED_DB}"')
    # The demo loads only with DEBUG on (its accounts have a published password); the benchmark itself runs with it off.
    seed_env = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{SEED_DB}", "DJANGO_DEBUG": "1"}
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=seed_env, check=True)
    subprocess.run([py, "manage.py", "seed_demo", "--signatures", str(signatures)], cwd=ROOT, env=seed_env,
                   check=True, capture_output=True)  # fmt: skip
    psql("VACUUM ANALYZE", SEED_DB)


def _reader_session(py: str, env: dict) -> str:
    script = (
        "import django; django.setup(); from django.test import Client; from accounts.models import User;"
        "c = Client(); c.force_login(User.objects.get(email='reader@demo.vigil.example'));"
        "print(c.cookies['sessionid'].value)"
    )
    out = subprocess.run([py, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def _sequential(port: int, path: str, cookie: str, count: int) -> list[float]:
    async def run() -> list[float]:
        timings = []
        for _ in range(count):
            start = time.perf_counter()
            status, _, body = await raw_request(port, raw_get(path, cookie))
            if status != 200 or b"Sign out" not in body:
                raise RuntimeError(f"{path} as the signed-in reader answered {status}")
            timings.append((time.perf_counter() - start) * 1000)
        return timings

    return asyncio.run(run())


def _wrk_series(args) -> dict:
    """The page phases again with wrk (C, two threads), when it is installed: a load generator that costs the
    machine less, for the same pages on the same server."""
    series = {}
    for name, path in PAGES.items():
        out = subprocess.run(
            ["wrk", "-t2", f"-c{args.clients}", f"-d{int(args.seconds)}s", "-H", "Connection: close", "--latency",
             f"http://127.0.0.1:{args.port}{path}"], capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50, p99 = (re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)", out).groups() for q in ("50", "99"))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sockets = re.search(r"Socket errors: (.*)", out)
        series[name] = {"per_second": rps, "p50": "".join(p50), "p99": "".join(p99),
                        "non_2xx": int(errors.group(1)) if errors else 0,
                        "socket_errors": sockets.group(1) if sockets else "none"}  # fmt: skip
    return series


def _stats(samples: list, seconds: float) -> dict:
    latencies = sorted(sample[0] * 1000 for sample in samples)
    errors = Counter(str(sample[1]) for sample in samples if not sample[2])
    return {
        "requests": len(samples),
        "per_second": round(len(samples) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1) if latencies else None,
        "errors": dict(errors),
    }


def _percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (the Dockerfile's if 0)")
    parser.add_argument("--port", type=int, default=8202)
    parser.add_argument("--signatures", type=int, default=500_000)
    parser.add_argument("--fresh", action="store_true", help="remake the template database")
    parser.add_argument("--only", default=",".join([*PAGES, "flow"]))
    parser.add_argument("--server-pids", default="", help=argparse.SUPPRESS)
    # The flow's signers are surge<n>@example.org from this n: a second load on the same database needs new people.
    parser.add_argument("--first-signer", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(_client_main(args))
        return

    py = str(ROOT / ".venv" / "bin" / "python")
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    print(__doc__.split("Method")[1].strip(), "\n", flush=True)
    with redis_persistence("everysec"):  # as docker-compose.yml runs it: the signing intake needs it
        _run(args, py, env)


def _run(args, py: str, env: dict) -> None:
    _seed(py, env, fresh=args.fresh, signatures=args.signatures)
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}" TEMPLATE "{SEED_DB}"')
    for db in ("9", "8"):
        subprocess.run(["redis-cli", "-n", db, "flushdb"], check=True, capture_output=True)
    petition_id = int(psql(f"SELECT id FROM petitions_petition WHERE slug = '{PETITION.split('/')[2]}'", DB_NAME))
    reader_cookie = "sessionid=" + _reader_session(py, env)

    with stack(py, env, port=args.port, prefix="vigil-surge-", workers=args.workers) as running:
        processes, tmp, command = running.processes, running.logs, running.command
        for path in PAGES.values():  # one visit each before measuring (imports, connections)
            subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{args.port}{path}"], check=True)
        client = subprocess.run(
            [py, str(Path(__file__)), "--client", "--seconds", str(args.seconds), "--clients", str(args.clients),
             "--port", str(args.port), "--only", args.only, "--server-pids", str(processes[0].pid)],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if client.returncode != 0:
            raise RuntimeError(f"the load generator failed:\n{client.stderr}")
        stopped = time.time()
        data = json.loads(client.stdout.strip().splitlines()[-1])

        def page_count() -> int:
            _, _, body = asyncio.run(raw_request(args.port, raw_get(PETITION)))
            match = COUNT.search(body)
            return int(match.group(1).replace(b",", b"")) if match else -1

        exact_after = None
        if "flow" in data["results"]:
            while time.time() - stopped < 30:
                if page_count() == _confirmed_rows(petition_id):
                    exact_after = time.time() - stopped
                    break
                time.sleep(0.1)
        wrk = _wrk_series(args) if shutil.which("wrk") else {}
        reader = {name: _sequential(args.port, PAGES[name], reader_cookie, 200) for name in ("article", "discussion")}

    results, cpu = data["results"], data["cpu"]
    print(f"cpu cores: {os.cpu_count()}   gunicorn: {' '.join(command[1:])}   clients: {args.clients}   "
          f"petition: {_confirmed_rows(petition_id):,} confirmed signatures")  # fmt: skip
    base = None
    for name in [*PAGES, "flow"]:
        if name not in results:
            continue
        seconds = results[name]["seconds"]
        steps = {step: _stats(samples, seconds) for step, samples in results[name]["samples"].items()}
        total = sum(step["requests"] for step in steps.values())
        cpu_ms = 1000 * cpu[name] / max(total, 1)
        if name != "flow":
            row = steps["get"]
            base = base or (row["per_second"] if name == "baseline" else None)
            ratio = f"{row['per_second'] / base:.2f}x baseline" if base else ""
            print(f"{name:<11} {row['per_second']:>8.1f} req/s  p50 {row['p50_ms']:>7.1f} ms  "
                  f"p99 {row['p99_ms']:>7.1f} ms  errors {row['errors'] or 0}  "
                  f"web CPU {cpu_ms:.2f} ms/req  {ratio}")  # fmt: skip
            continue
        signed = steps.get("thanks", {}).get("requests", 0) - sum(steps.get("thanks", {}).get("errors", {}).values())
        confirmed = steps.get("confirm_post", {}).get("requests", 0) - sum(
            steps.get("confirm_post", {}).get("errors", {}).values()
        )
        flows = min(signed, confirmed)
        flow_rps = 5 * flows / seconds
        ratio = f"{flow_rps / base:.2f}x baseline" if base else ""
        print(f"flow        {total / seconds:>8.1f} req/s in all; "
              f"complete flows {flows / seconds:.1f}/s x 5 requests = {flow_rps:.1f} req/s {ratio}; "
              f"web CPU {cpu_ms:.2f} ms/req; "
              f"links not yet followed at the end: {results['flow']['unconfirmed_links_left']}")  # fmt: skip
        for step in ("page", "sign", "thanks", "confirm_get", "confirm_post"):
            if step in steps:
                row = steps[step]
                print(f"  {step:<13} {row['per_second']:>7.1f} req/s  p50 {row['p50_ms']:>7.1f} ms  "
                      f"p99 {row['p99_ms']:>7.1f} ms  errors {row['errors'] or 0}")  # fmt: skip
        exact = f"{exact_after:.1f} s" if exact_after is not None else "NOT within 30 s"
        print(f"petition page shows the confirmed rows' count {exact} after the load stopped")
    if wrk:
        print(f"the same pages with wrk -t2 -c{args.clients} -d{int(args.seconds)}s -H 'Connection: close':")
        for name, row in wrk.items():
            ratio = row["per_second"] / wrk["baseline"]["per_second"]
            print(f"  {name:<11} {row['per_second']:>8.1f} req/s  p50 {row['p50']:>8}  p99 {row['p99']:>8}  "
                  f"non-2xx {row['non_2xx']}  socket errors {row['socket_errors']}  {ratio:.2f}x baseline")  # fmt: skip
    for name, timings in reader.items():
        print(f"signed-in reader, {name} (200 one at a time): {_percentiles(timings)}")
    print(f"logs: {tmp}")


def _confirmed_rows(petition_id: int) -> int:
    sql = f"SELECT count(*) FROM signatures_signature WHERE petition_id={petition_id} AND state='confirmed'"
    return int(psql(sql, DB_NAME))


if __name__ == "__main__":
    main()
