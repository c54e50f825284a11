"""Capacity: what one signer costs each part of Vigil, the model built from those costs, and a simulation with the
parts on separate "hosts" that checks the model's prediction.

Usage: .venv/bin/python bench/capacity.py [--seconds 20] [--clients 64] [--export-rows 150000] [--fresh]

Method (one run, this machine)
- Every part production has, each in processes of its own: gunicorn web servers as the Dockerfile runs them, Celery
  workers (2 processes each, as docker-compose.yml) and one beat; each web and worker "host" has a var directory,
  media root and private root of its own, so nothing passes through a shared disk. Every Django process reaches the
  machine's PostgreSQL through PgBouncer in transaction mode (a throwaway one, tests/throwaway.py); media and private
  files live in moto's S3 server; the machine's Redis runs with persistence as compose runs it (appendfsync everysec).
- The database is the surge benchmark's template (demo content, the demo petition with 500,000 more signatures),
  cloned afresh for each configuration. Rate limits are raised as in the surge benchmark (every request comes from
  127.0.0.1); e-mail goes to Django's dummy backend (rendered and "sent", but no SMTP conversation).
- CPU seconds per part from /proc: web (each gunicorn and its children), worker (each worker, and beat), PostgreSQL
  (every process of the server), Redis, PgBouncer, the object store, and the load generator (it shares the cores).
1. Costs, with one web host and one worker host. Idle for --idle seconds (what the parts cost with nothing to do),
   then --calibrate-clients clients, --seconds at most per phase:
     page     GET the petition page as a new visitor
     sign     POST the sign form (a new address each time) and GET the thanks page; then wait until the worker has
              written every signature and sent every confirmation e-mail
     confirm  GET each new signature's confirmation link and POST its button; then wait until the petition page
              shows the confirmed count
   A part's cost per operation = (its CPU over the phase and the wait - its idle rate x that time) / operations.
     export   the CSV packet job of --export-rows confirmed signatures (bench/deliverables_common.py), in a process of
              its own: its CPU and PostgreSQL's, per 1,000 rows.
2. The model. One signer's flow costs page + sign + confirm on each part. C cores shared by every part, of which the
   idle parts take I (the measured idle rate of each host, times the hosts), complete at most (C - I) / (CPU of one
   flow, all parts) flows per second; a part that runs on one core (Redis) caps it at 1 / its CPU per flow.
3. The simulation: two web hosts and two worker hosts (and one beat), --clients clients; each client is a new signer
   per flow (page, sign, thanks) and follows a confirmation link (page and button) whenever one is waiting, sent to
   the web hosts in turn as a load balancer does. Complete flows per second (signed and confirmed) over --seconds,
   against the model's prediction for that configuration: the ratio, and each part's CPU per flow in both runs.
4. What the costs mean for campaigns of 1, 10 and 100 million signatures a day, with 20 % of them in the peak hour
   (docs/capacity.md explains each line).
"""

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import descendants, process_cpu, psql, raw_get, raw_request, redis_persistence  # noqa: E402
from bench.surge import ENV as SURGE_ENV  # noqa: E402
from bench.surge import PETITION, SEED_DB, _csrf, _dockerfile_server, _post, _seed  # noqa: E402

DB_NAME = "vigil_bench_capacity"
REDIS_DBS = ("7", "6")  # cache and rate limits; broker
BUCKET = "vigil-capacity"
PARTS = ("web", "worker", "postgres", "redis", "pooler", "store", "load")
SERVER_PARTS = ("web", "worker", "postgres", "redis", "pooler", "store")  # what a deployment runs
EMAIL_PREFIX = "capacity"


# --- CPU of the parts ------------------------------------------------------------------------------------------------


def _tree_cpu(root: int) -> float:
    """CPU seconds of a process and its descendants, with the children each has already reaped (PostgreSQL's
    backends that ended, a gunicorn worker restarted): /proc's cutime and cstime."""
    total = 0.0
    for pid in descendants(root):
        total += process_cpu(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return total


def _minus(after: dict, before: dict) -> dict:
    return {key: _minus(value, before[key]) if isinstance(value, dict) else value - before[key]
            for key, value in after.items()}  # fmt: skip


# --- The load generator (its own process: --client) --------------------------------------------------------------


async def _client_main(args) -> None:
    import psycopg2
    from django.conf import settings
    from django.core import signing

    settings.configure(SECRET_KEY=SURGE_ENV["DJANGO_SECRET_KEY"])
    ports = [int(port) for port in args.ports.split(",")]
    roots = json.loads(args.roots)
    connection = psycopg2.connect(f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_backend = cursor.fetchone()[0]  # its queries are the load generator's work, not the site's
    signer = signing.TimestampSigner(salt="signatures.confirm")
    people = {"next": 0}
    turn = {"next": 0}
    report: dict = {}

    def sql(query: str, params=()) -> list:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    def snapshot() -> dict:
        """Each part's CPU so far; the load generator's includes its own PostgreSQL backend's. The WAL PostgreSQL
        has written, and the rows inserted, updated and deleted in the site's database."""
        cpu = {part: sum(_tree_cpu(root) for root in pids) for part, pids in roots.items()}
        own = process_cpu(own_backend)
        cpu["postgres"] -= own
        cpu["load"] = time.process_time() + own
        wal, written = sql(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'), (SELECT tup_inserted + tup_updated + tup_deleted "
            "FROM pg_stat_database WHERE datname = current_database())"
        )[0]
        return {"cpu": cpu, "db": {"wal_bytes": float(wal), "rows_written": written}}

    def next_port() -> int:  # round robin, as a load balancer spreads requests over the web hosts
        turn["next"] += 1
        return ports[turn["next"] % len(ports)]

    async def call(raw: bytes, port: int | None = None) -> tuple[int, dict, bytes]:
        try:
            return await raw_request(port or next_port(), raw)
        except OSError:
            return 0, {}, b""

    def new_signer(rng: random.Random, token: str) -> dict:
        person = people["next"]
        people["next"] += 1
        return {"first_name": "Capacity", "last_name": f"Signer {person}",
                "email": f"{EMAIL_PREFIX}{person}@example.org", "country": rng.choice(["GB", "FR", "DE", "US"]),
                "region": "", "town": "Benchtown",
                "show_publicly": "on", "website": "", "csrfmiddlewaretoken": token}  # fmt: skip

    async def sign(rng: random.Random, token: str, cookie: str, counts: dict) -> None:
        status, headers, _ = await call(_post(PETITION + "sign/", new_signer(rng, token), cookie))
        if status != 303:
            counts["errors"] += 1
            return
        status, _, _ = await call(raw_get(headers["location"][0], cookie))
        counts["signed"] += 1
        if status != 200:
            counts["errors"] += 1

    async def confirm(link_token: str, counts: dict) -> None:
        link = f"/petitions/confirm/{link_token}/"
        port = next_port()  # a person's two requests may reach different hosts; the CSRF cookie is theirs
        status, headers, body = await call(raw_get(link), port)
        if status != 200:
            counts["errors"] += 1
            return
        token, cookie = _csrf(headers, body)
        status, _, _ = await call(_post(link, {"csrfmiddlewaretoken": token}, cookie))
        if status == 200:
            counts["confirmed"] += 1
        else:
            counts["errors"] += 1

    def pending_links(after: int) -> list[tuple[int, str]]:
        rows = sql("SELECT id, generation FROM signatures_signature WHERE state = 'pending' AND id > %s "
                   "AND email LIKE %s ORDER BY id LIMIT 5000", [after, f"{EMAIL_PREFIX}%"])  # fmt: skip
        return [(pk, signer.sign(f"{pk}.{generation}")) for pk, generation in rows]

    def settled_after_signing(accepted: int) -> bool:
        written = sql("SELECT count(*) FROM signatures_signature WHERE email LIKE %s", [f"{EMAIL_PREFIX}%"])[0][0]
        unsent = sql("SELECT count(*) FROM core_outboundemail WHERE sent_at IS NULL AND failed_at IS NULL")[0][0]
        return written >= accepted and unsent == 0

    def shown_count() -> int:
        import re

        status, _, body = asyncio.run(raw_request(ports[0], raw_get(PETITION)))
        match = re.search(rb'petition-progress__count"><strong>([\d,]+)</strong>', body)
        return int(match.group(1).replace(b",", b"")) if status == 200 and match else -1

    def confirmed_rows() -> int:
        return sql("SELECT count(*) FROM signatures_signature s JOIN petitions_petition p ON p.id = s.petition_id "
                   "WHERE p.slug = %s AND s.state = 'confirmed'", [PETITION.split("/")[2]])[0][0]  # fmt: skip

    async def settle(predicate, limit: float = 120) -> float:
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if await asyncio.to_thread(predicate):
                return time.monotonic() - started
            await asyncio.sleep(0.2)
        raise RuntimeError("the work did not settle within its limit")

    async def measured(name: str, body, *, settled=None) -> None:
        """Run `body` (which returns its operation count) and wait for `settled`; record the CPU of each part."""
        before = await asyncio.to_thread(snapshot)
        started = time.monotonic()
        operations, counts = await body()
        busy = time.monotonic() - started
        waited = await settle(settled) if settled else 0.0
        report[name] = {"operations": operations, "busy_seconds": busy, "seconds": time.monotonic() - started,
                        "waited": waited, **_minus(await asyncio.to_thread(snapshot), before), **counts}  # fmt: skip

    # -- idle ---------------------------------------------------------------------------------------------------------
    before = snapshot()
    await asyncio.sleep(args.idle)
    report["idle"] = {"seconds": args.idle, **_minus(snapshot(), before)}

    async def tokens() -> list[tuple[str, str]]:
        found = []
        for i in range(args.clients):
            status, headers, body = await call(raw_get(PETITION), ports[i % len(ports)])
            found.append(_csrf(headers, body))
        return found

    if args.mode == "calibrate":

        async def pages():
            counts = {"errors": 0}
            deadline = time.monotonic() + args.seconds

            async def one() -> int:
                done = 0
                while time.monotonic() < deadline:
                    status, _, _ = await call(raw_get(PETITION))
                    done += status == 200
                    counts["errors"] += status != 200
                return done

            return sum(await asyncio.gather(*(one() for _ in range(args.clients)))), counts

        await measured("page", pages)
        csrf = await tokens()
        counts = {"signed": 0, "errors": 0}

        async def signing():
            deadline = time.monotonic() + args.seconds

            async def one(i: int) -> None:
                rng = random.Random(i)
                while time.monotonic() < deadline:
                    await sign(rng, *csrf[i], counts)

            await asyncio.gather(*(one(i) for i in range(args.clients)))
            return counts["signed"], {"errors": counts["errors"]}

        await measured("sign", signing, settled=lambda: settled_after_signing(counts["signed"]))
        links = [token for _, token in pending_links(0)]

        async def confirming():
            counts = {"confirmed": 0, "errors": 0}
            deadline = time.monotonic() + args.seconds

            async def one() -> None:
                while links and time.monotonic() < deadline:
                    await confirm(links.pop(), counts)

            await asyncio.gather(*(one() for _ in range(args.clients)))
            return counts["confirmed"], {"errors": counts["errors"]}

        await measured("confirm", confirming, settled=lambda: shown_count() == confirmed_rows())
    else:
        csrf = await tokens()
        counts = {"signed": 0, "confirmed": 0, "errors": 0}
        queue: list[str] = []

        async def feed(stop: asyncio.Event) -> None:
            last = 0
            while not stop.is_set():
                for pk, token in await asyncio.to_thread(pending_links, last):
                    queue.append(token)
                    last = max(last, pk)
                await asyncio.sleep(0.5)

        async def flows() -> None:
            """Clients run for --warmup seconds first (no confirmation link exists yet at the start), then the
            counts and every part's CPU are taken over the next --seconds: the steady state."""
            deadline = time.monotonic() + args.warmup + args.seconds
            stop = asyncio.Event()
            feeder = asyncio.create_task(feed(stop))

            async def one(i: int) -> None:
                rng = random.Random(i)
                while time.monotonic() < deadline:
                    if queue:
                        await confirm(queue.pop(0), counts)
                        continue
                    status, headers, body = await call(raw_get(PETITION))
                    if status != 200:
                        counts["errors"] += 1
                        continue
                    token, cookie = _csrf(headers, body, csrf[i][1])
                    await sign(rng, token, cookie, counts)

            clients = asyncio.gather(*(one(i) for i in range(args.clients)))
            await asyncio.sleep(args.warmup)
            counts_before, before, started = dict(counts), await asyncio.to_thread(snapshot), time.monotonic()
            await asyncio.sleep(args.seconds)
            window = {name: counts[name] - counts_before[name] for name in counts}
            after = await asyncio.to_thread(snapshot)
            report["flow"] = {"seconds": time.monotonic() - started, **_minus(after, before),
                              "operations": min(window["signed"], window["confirmed"]), **window,
                              "links_left": len(queue)}  # fmt: skip
            await clients
            stop.set()
            await feeder

        await flows()
    print(json.dumps(report))


# --- The orchestrator ------------------------------------------------------------------------------------------------


def _postgres_pid() -> int:
    data = psql("SHOW data_directory")
    return int(Path(data, "postmaster.pid").read_text().split()[0])


def _redis_pid() -> int:
    info = subprocess.run(["redis-cli", "info", "server"], check=True, capture_output=True, text=True).stdout
    return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("process_id:")))


class Site:
    """Vigil's processes for one configuration: `webs` web hosts and `workers` worker hosts, and one beat."""

    def __init__(self, root: Path, *, webs: int, workers: int, pooler, store):
        self.root, self.webs, self.workers = root, webs, workers
        self.base = {
            **os.environ, **SURGE_ENV, "PYTHONPATH": str(ROOT),
            "DATABASE_URL": pooler.url(DB_NAME),
            "DJANGO_CONN_MAX_AGE": "600",
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DBS[0]}",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DBS[1]}",
            **store.settings("VIGIL_S3_"),
        }  # fmt: skip
        self.ports = [8310 + i for i in range(webs)]
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: list = []

    def host_env(self, host: str) -> dict[str, str]:
        var = self.root / host
        return {**self.base, "DJANGO_VAR_DIR": str(var), "DJANGO_MEDIA_ROOT": str(var / "media"),
                "VIGIL_PRIVATE_ROOT": str(var / "private")}  # fmt: skip

    def _spawn(self, host: str, command: list[str]) -> None:
        log = open(self.root / f"{host}.log", "wb")  # noqa: SIM115
        self.logs.append(log)
        self.processes[host] = subprocess.Popen(command, cwd=ROOT, env=self.host_env(host), stdout=log,
                                                stderr=subprocess.STDOUT)  # fmt: skip

    def start(self) -> None:
        py = sys.executable
        command, workers = _dockerfile_server()
        command = [str(Path(py).parent / "gunicorn") if part == "gunicorn" else part for part in command]
        for i, port in enumerate(self.ports):
            bound = [f"127.0.0.1:{port}" if part.startswith("0.0.0.0:") else part for part in command]
            self._spawn(f"web{i + 1}", [*bound, "--workers", str(workers), "--backlog", "2048"])
        for i in range(self.workers):
            self._spawn(f"worker{i + 1}", [py, "-m", "celery", "-A", "config", "worker", "--concurrency=2",
                                           "--without-gossip", "--without-mingle", "--loglevel=WARNING",
                                           "-n", f"worker{i + 1}@%h"])  # fmt: skip
        self._spawn("beat", [py, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
                             "--schedule", str(self.root / "beat-schedule")])  # fmt: skip
        for port in self.ports:
            for _ in range(300):
                answered = subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{port}/healthz"])
                if answered.returncode == 0:
                    break
                time.sleep(0.2)
            else:
                raise RuntimeError(f"the web host on port {port} did not answer; see {self.root}")
            for _ in range(6):  # each gunicorn process renders the page once before measuring (imports, caches)
                subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{port}{PETITION}"], check=True)

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()

    def roots(self, pooler, store) -> dict[str, list[int]]:
        hosts = self.processes
        return {
            "web": [p.pid for name, p in hosts.items() if name.startswith("web")],
            "worker": [p.pid for name, p in hosts.items() if name.startswith(("worker", "beat"))],
            "postgres": [_postgres_pid()],
            "redis": [_redis_pid()],
            "pooler": [pooler.process.pid],
            "store": [store.process.pid],
        }


def _run_configuration(args, root: Path, *, mode: str, webs: int, workers: int, pooler, store) -> dict:
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}" TEMPLATE "{SEED_DB}"')
    psql("VACUUM ANALYZE", DB_NAME)
    for db in REDIS_DBS:
        subprocess.run(["redis-cli", "-n", db, "flushdb"], check=True, capture_output=True)
    site = Site(root / mode, webs=webs, workers=workers, pooler=pooler, store=store)
    (root / mode).mkdir(parents=True, exist_ok=True)
    try:
        site.start()
        clients = args.clients if mode == "simulate" else args.calibrate_clients
        client = subprocess.run(
            [sys.executable, str(Path(__file__)), "--client", "--mode", mode, "--seconds", str(args.seconds),
             "--idle", str(args.idle), "--warmup", str(args.warmup), "--clients", str(clients),
             "--ports", ",".join(map(str, site.ports)), "--roots", json.dumps(site.roots(pooler, store))],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        )  # fmt: skip
        if client.returncode != 0:
            raise RuntimeError(f"the load generator failed:\n{client.stderr}")
        return json.loads(client.stdout.strip().splitlines()[-1])
    finally:
        site.stop()


def _export_cost(rows: int, fresh: bool) -> dict:
    """CPU of the CSV packet job (its own process) and of PostgreSQL, per 1,000 rows."""
    from bench.deliverables_common import DATABASE, measure, setup_database

    missing = psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'") != "1"
    setup_database(rows=rows, fresh=fresh or missing)
    postgres = _postgres_pid()
    pg_before = _tree_cpu(postgres)
    result = measure("csv")
    pg = _tree_cpu(postgres) - pg_before
    return {"rows": result["rows"], "seconds": result["seconds"], "job_cpu": result["cpu_seconds"], "postgres_cpu": pg}


# --- The model -------------------------------------------------------------------------------------------------------

OPERATIONS = ("page", "sign", "confirm")
DB_FIGURES = ("wal_bytes", "rows_written")


def _costs(calibration: dict) -> tuple[dict, dict]:
    """Per operation: each part's CPU seconds and the database's WAL bytes and rows written, with what the idle site
    does in that time taken out. And the idle rates (CPU: cores)."""
    idle = calibration["idle"]
    rate = {part: idle["cpu"][part] / idle["seconds"] for part in PARTS}
    rate["load"] = 0.0  # the load generator's own idle is its setup, not a part of the site
    rate.update({figure: idle["db"][figure] / idle["seconds"] for figure in DB_FIGURES})
    costs = {}
    for name in OPERATIONS:
        phase = calibration[name]
        measured = {**phase["cpu"], **phase["db"]}
        costs[name] = {key: max(0.0, measured[key] - rate[key] * phase["seconds"]) / phase["operations"]
                       for key in (*PARTS, *DB_FIGURES)}  # fmt: skip
    return costs, rate


def _per_flow(costs: dict) -> dict:
    """One signer: the page, the signature (and its thanks page), the confirmation."""
    return {key: sum(costs[name][key] for name in OPERATIONS) for key in costs["page"]}


def _predict(costs: dict, rate: dict, *, cores: float, webs: int, workers: int) -> dict:
    """Flows per second the model expects of `webs` web hosts and `workers` worker hosts sharing `cores` cores with
    the load generator, from costs measured with one of each: idle costs scale with the hosts of each kind."""
    flow = _per_flow(costs)
    idle = sum(rate[part] for part in PARTS) + rate["web"] * (webs - 1) + rate["worker"] * (workers - 1)
    cpu = sum(flow[part] for part in PARTS)
    by_cores = (cores - idle) / cpu
    by_redis = 1 / flow["redis"] if flow["redis"] else float("inf")
    return {"flows_per_second": min(by_cores, by_redis), "idle_cores": idle, "by_cores": by_cores,
            "by_redis": by_redis, "cpu_per_flow": cpu}  # fmt: skip


def _sizing(costs: dict, export: dict, *, views_per_signer: float, utilisation: float) -> list[dict]:
    """What a campaign needs at its peak hour, for 1, 10 and 100 million signatures a day."""
    flow = _per_flow(costs)
    extra_views = max(0.0, views_per_signer - 1)  # the flow itself views the page once
    per_signer = {key: flow[key] + extra_views * costs["page"][key] for key in flow}
    export_per_row = (export["job_cpu"] + export["postgres_cpu"]) / export["rows"]
    rows = []
    for millions in (1, 10, 100):
        peak = 0.2 * millions * 1_000_000 / 3600  # signers per second in the peak hour
        rows.append({
            "millions": millions,
            "peak_per_second": peak,
            "cores": {part: peak * per_signer[part] / utilisation for part in SERVER_PARTS},
            "redis_core_share": peak * per_signer["redis"],
            "wal_mb_per_second": peak * per_signer["wal_bytes"] / 1e6,
            "rows_per_second": peak * per_signer["rows_written"],
            "export_core_minutes": millions * 1_000_000 * export_per_row / 60,
        })  # fmt: skip
    return rows


# --- Report ----------------------------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--idle", type=float, default=5)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--calibrate-clients", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of the simulation before it is measured")
    parser.add_argument("--export-rows", type=int, default=150_000)
    parser.add_argument(
        "--views-per-signer",
        type=float,
        default=3.0,
        help="petition page views per signer in the sizing table (visitors who do not sign too)",
    )
    parser.add_argument("--utilisation", type=float, default=0.6, help="the share of each core the sizing plans for")
    parser.add_argument("--fresh", action="store_true", help="remake the template databases")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="", help=argparse.SUPPRESS)
    parser.add_argument("--ports", default="", help=argparse.SUPPRESS)
    parser.add_argument("--roots", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(_client_main(args))
        return

    from tests.throwaway import ThrowawayPgBouncer, ThrowawayS3

    print(__doc__.split("Method")[1].strip(), "\n", flush=True)
    root = Path(tempfile.mkdtemp(prefix="vigil-capacity-"))
    env = {**os.environ, **SURGE_ENV, "PYTHONPATH": str(ROOT)}
    with redis_persistence("everysec"), ThrowawayPgBouncer(root / "pooler", server_port=5432, pool_size=40) as pooler, \
            ThrowawayS3(root / "store", bucket=BUCKET) as store:  # fmt: skip
        _seed(sys.executable, env, fresh=args.fresh, signatures=500_000)
        print("costs: one web host, one worker host ...", flush=True)
        calibration = _run_configuration(args, root, mode="calibrate", webs=1, workers=1, pooler=pooler, store=store)
        (root / "calibration.json").write_text(json.dumps(calibration, indent=2))
        print("export ...", flush=True)
        export = _export_cost(args.export_rows, args.fresh)
        print("simulation: two web hosts, two worker hosts ...", flush=True)
        simulation = _run_configuration(args, root, mode="simulate", webs=2, workers=2, pooler=pooler, store=store)
    _report(args, calibration, export, simulation, root)


def _report(args, calibration: dict, export: dict, simulation: dict, root: Path) -> None:
    costs, rate = _costs(calibration)
    cores = os.cpu_count() or 1
    (root / "figures.json").write_text(json.dumps({"calibration": calibration, "export": export,
                                                   "simulation": simulation}, indent=2))  # fmt: skip
    print(f"\ncpu cores: {cores}; logs and the raw figures: {root}")
    print("\n1. costs (one web host, one worker host): CPU ms per operation of each part; the database's WAL and "
          "rows written per operation")  # fmt: skip
    header = "".join(f"{part:>9}" for part in PARTS) + f"{'WAL kB':>9}{'rows':>9}{'ops':>7}{'ops/s':>7}{'errors':>7}"
    print(f"  {'':<13}{header}")
    print(f"  {'idle (cores)':<13}" + "".join(f"{rate[part]:>9.3f}" for part in PARTS)
          + f"{rate['wal_bytes'] / 1000:>9.1f}{rate['rows_written']:>9.1f}   (per second)")  # fmt: skip
    for name in OPERATIONS:
        phase, cost = calibration[name], costs[name]
        print(f"  {name:<13}" + "".join(f"{_ms(cost[part]):>9}" for part in PARTS)
              + f"{cost['wal_bytes'] / 1000:>9.2f}{cost['rows_written']:>9.2f}{phase['operations']:>7}"
              f"{phase['operations'] / phase['busy_seconds']:>7.0f}{phase['errors']:>7}")  # fmt: skip
    flow = _per_flow(costs)
    print(f"  {'one flow':<13}" + "".join(f"{_ms(flow[part]):>9}" for part in PARTS)
          + f"{flow['wal_bytes'] / 1000:>9.2f}{flow['rows_written']:>9.2f}"
          f"   = {_ms(sum(flow[part] for part in PARTS))} ms of CPU in all")  # fmt: skip
    waits = ", ".join(f"{name} {calibration[name]['waited']:.1f} s" for name in ("sign", "confirm"))
    print(f"  the wait for the work to settle after a phase: {waits}")
    per_k = 1000 / export["rows"]
    print(f"  export: {export['rows']:,} rows in {export['seconds']:.1f} s; CPU per 1,000 rows: the job "
          f"{_ms(export['job_cpu'] * per_k)} ms, PostgreSQL {_ms(export['postgres_cpu'] * per_k)} ms")  # fmt: skip

    model = _predict(costs, rate, cores=cores, webs=2, workers=2)
    phase = simulation["flow"]
    measured = phase["operations"] / phase["seconds"]
    idle = {**rate, "web": 2 * rate["web"], "worker": 2 * rate["worker"]}
    per_flow = {part: (phase["cpu"][part] - idle[part] * phase["seconds"]) / max(phase["operations"], 1)
                for part in PARTS}  # fmt: skip
    print("\n2-3. the model against the simulation (two web hosts, two worker hosts, pooler, object store):")
    print(f"  model: ({cores} cores - {model['idle_cores']:.3f} idle) / {_ms(model['cpu_per_flow'])} ms a flow = "
          f"{model['by_cores']:.1f} flows/s; Redis alone would allow {model['by_redis']:.0f}/s")  # fmt: skip
    print(f"  simulation: {measured:.1f} complete flows/s ({phase['signed']} signed, {phase['confirmed']} confirmed, "
          f"{phase['errors']} errors, {phase['links_left']} links not yet followed at the end) over "
          f"{phase['seconds']:.1f} s after {args.warmup:g} s of warm-up, {args.clients} clients")  # fmt: skip
    print(f"  measured / predicted = {measured / model['flows_per_second']:.2f} (goal: within 0.75-1.25)")
    print("  CPU ms per complete flow in the simulation: "
          + ", ".join(f"{part} {_ms(per_flow[part])}" for part in PARTS)
          + f"; the machine's cores busy: {sum(phase['cpu'].values()) / phase['seconds']:.2f} of {cores}")  # fmt: skip

    print(f"\n4. sizing at the peak hour (20 % of the day), {args.views_per_signer:g} page views per signer, "
          f"cores planned at {args.utilisation:.0%} busy:")  # fmt: skip
    for row in _sizing(costs, export, views_per_signer=args.views_per_signer, utilisation=args.utilisation):
        need = ", ".join(f"{part} {row['cores'][part]:.1f}" for part in SERVER_PARTS)
        print(f"  {row['millions']:>3} M/day: {row['peak_per_second']:,.0f} signers/s; cores: {need}; "
              f"Redis {row['redis_core_share']:.0%} of its one core; PostgreSQL {row['wal_mb_per_second']:.1f} MB/s "
              f"of WAL, {row['rows_per_second']:,.0f} rows written/s; exporting every signature: "
              f"{row['export_core_minutes']:.1f} core-minutes")  # fmt: skip
    flow = _per_flow(costs)
    per_signer = {key: flow[key] + max(0.0, args.views_per_signer - 1) * costs["page"][key] for key in flow}
    print(f"  parts that run on one core, each at {args.utilisation:.0%} busy, carry at most:")
    for part in ("redis", "pooler"):
        most = args.utilisation / per_signer[part]
        print(f"    {part}: {most:,.0f} signers/s in the peak hour = {most * 3600 / 0.2 / 1e6:.0f} million a day")


if __name__ == "__main__":
    main()
