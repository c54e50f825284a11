"""The API at /api/v1/: pages of a big petition's signatures, and recording signatures against the sign form.

Usage: .venv/bin/python bench/api.py [--requests 200] [--seconds 15] [--clients 64] [--rounds 4] [--fresh]

Method
- The surge benchmark's template database (demo content, the demo petition with 500,000 more confirmed signatures),
  cloned for the run; production settings; the Dockerfile's gunicorn; a Celery worker and beat; the machine's Redis
  with persistence as compose runs it (the signing intake on). Rate limits raised, as every request comes from
  127.0.0.1. A token of the demo petition that may write.
- Pages: --requests GETs one after another (one connection each) of page 1 and of page 4,000 (25 a page: rows
  99,976 to 100,000), in alternation, with the API's remembered page starts emptied first, so that the first
  page-4,000 request counts from the start; p50/p95/max of each, and of the first (cold) page-4,000 request alone.
- Recording: --clients clients for --seconds each, as new signers: the sign form (POST, its CSRF token and cookie
  fetched once per client before the clock starts) and the record signature helper (POST JSON with the token),
  --rounds times each in alternation (form, helper, form, helper, ...). Accepted signatures per second (303 for the
  form, 200 for the helper), p50/p99, errors; the helper's rate against the form's from the same round. This
  machine's speed drifts by a fifth within a minute, so the figure is the median of the rounds' ratios, with the
  lowest and highest. Before each phase the previous one's work is let finish (the intake written, its e-mails
  sent), so no phase pays for the one before; 3 s of each, not measured, come first (each web process's first
  requests build what it keeps). The CPU each part used (web, worker, beat, PostgreSQL, Redis, the load generator)
  per accepted signature, read from /proc.
"""

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.capacity import _postgres_pid, _redis_pid, _tree_cpu  # noqa: E402
from bench.common import process_cpu, psql, raw_get, raw_request, redis_persistence  # noqa: E402
from bench.surge import ENV as SURGE_ENV  # noqa: E402
from bench.surge import PETITION, SEED_DB, _csrf, _dockerfile_server, _post, _seed  # noqa: E402

DB_NAME = "vigil_bench_api"
PORT = 8330
ENV = {
    **SURGE_ENV,
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379/5",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/4",
    "VIGIL_API_RATE_PER_TOKEN": "100000000/h",
    "VIGIL_API_SIGN_RATE_PER_TOKEN": "100000000/h",
    "DJANGO_VAR_DIR": str(ROOT / "var" / "bench-api"),
}


def _json_post(path: str, body: dict, token: str) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOSDI-API-Token: {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


def _token_get(path: str, token: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOSDI-API-Token: {token}\r\nConnection: close\r\n\r\n".encode()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _pages(args, token: str, public_id: str) -> dict:
    base = f"/api/v1/petitions/{public_id}/signatures"
    timings: dict[str, list[float]] = {"page 1": [], "page 4000": []}
    first_cold = None
    for i in range(2 * args.requests):
        name = "page 1" if i % 2 == 0 else "page 4000"
        path = f"{base}?page={1 if name == 'page 1' else 4000}&per_page=25"
        started = time.perf_counter()
        status, _, body = await raw_request(PORT, _token_get(path, token))
        elapsed = 1000 * (time.perf_counter() - started)
        items = json.loads(body)["_embedded"]["osdi:signatures"] if status == 200 else []
        if status != 200 or len(items) != 25:
            raise RuntimeError(f"{path} answered {status} with {len(items)} signatures")
        timings[name].append(elapsed)
        if name == "page 4000" and first_cold is None:
            first_cold = elapsed
    return {"timings": timings, "first_cold": first_cold}


async def _recording(args, token: str, public_id: str) -> list[dict]:
    people = {"next": 0}

    def person() -> int:
        people["next"] += 1
        return people["next"]

    async def form_round(seconds: float) -> dict:
        csrf = []
        for _ in range(args.clients):
            _, headers, body = await raw_request(PORT, raw_get(PETITION))
            csrf.append(_csrf(headers, body))
        return await _run(seconds, lambda i: _post(PETITION + "sign/", {
            "first_name": "Bench", "last_name": f"Form {(n := person())}", "email": f"apiform{n}@example.org",
            "country": "GB", "region": "", "town": "Benchtown", "show_publicly": "on", "website": "",
            "csrfmiddlewaretoken": csrf[i][0]}, csrf[i][1]), ok=303)  # fmt: skip

    async def helper_round(seconds: float) -> dict:
        path = f"/api/v1/petitions/{public_id}/signatures"
        return await _run(seconds, lambda i: _json_post(path, {"person": {
            "given_name": "Bench", "family_name": f"Helper {(n := person())}",
            "email_addresses": [{"address": f"apihelper{n}@example.org"}],
            "postal_addresses": [{"locality": "Benchtown", "country": "GB"}]}}, token), ok=200)  # fmt: skip

    async def _run(seconds: float, make, *, ok: int) -> dict:
        deadline = time.monotonic() + seconds
        latencies, errors = [], 0

        async def client(i: int) -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    status, _, _ = await raw_request(PORT, make(i))
                except OSError:
                    status = 0
                if status == ok:
                    latencies.append(1000 * (time.perf_counter() - started))
                else:
                    errors += 1

        cpu_before = _cpu(args.pids)
        started = time.monotonic()
        await asyncio.gather(*(client(i) for i in range(args.clients)))
        elapsed = time.monotonic() - started
        cpu = {part: used - cpu_before[part] for part, used in _cpu(args.pids).items()}
        return {"per_second": len(latencies) / elapsed, "p50": statistics.median(latencies),
                "p99": _percentile(latencies, 0.99), "errors": errors,
                "cpu_ms": {part: 1000 * used / max(1, len(latencies)) for part, used in cpu.items()}}  # fmt: skip

    # Each web process's first requests of a kind build what it keeps (schemas, templates, connections): a few
    # seconds of both, not measured, so that the rounds compare the steady costs.
    await form_round(3)
    await helper_round(3)
    rounds = []
    for _ in range(args.rounds):
        _settle()
        form = await form_round(args.seconds)
        _settle()
        helper = await helper_round(args.seconds)
        rounds.append({"form": form, "helper": helper})
    return rounds


def _cpu(pids: str) -> dict[str, float]:
    """CPU seconds used so far by each part (a process and its descendants), and by this load generator."""
    found = {part: _tree_cpu(int(pid)) for part, pid in (item.split(":") for item in pids.split(",") if item)}
    return {**found, "load": process_cpu(os.getpid())}


def _settle(timeout: float = 120) -> None:
    """Wait until the previous phase's work is done (the intake written, its confirmation e-mails sent), so that
    each phase starts on a quiet machine and none pays for the one before it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = subprocess.run(["redis-cli", "-n", "5", "--scan", "--pattern", "*signatures:intake:queue"],
                              capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
        queued = sum(int(subprocess.run(["redis-cli", "-n", "5", "llen", key], capture_output=True, text=True,
                                        check=True).stdout.strip() or 0) for key in keys)  # fmt: skip
        unsent = int(psql("SELECT count(*) FROM core_outboundemail WHERE sent_at IS NULL AND failed_at IS NULL",
                          DB_NAME))  # fmt: skip
        if queued == 0 and unsent == 0:
            time.sleep(1)
            return
        time.sleep(0.5)
    raise RuntimeError("the previous phase's work was not done within two minutes")


def _client_main(args) -> None:
    async def main() -> dict:
        pages = await _pages(args, args.token, args.public_id)
        recording = await _recording(args, args.token, args.public_id)
        return {"pages": pages, "recording": recording}

    print(json.dumps(asyncio.run(main())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--token", default="", help=argparse.SUPPRESS)
    parser.add_argument("--public-id", default="", help=argparse.SUPPRESS)
    parser.add_argument("--pids", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        _client_main(args)
        return
    print(__doc__.split("Method")[1].strip(), "\n", flush=True)
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    with redis_persistence("everysec"):
        _run(args, env)


def _run(args, env: dict) -> None:
    py = sys.executable
    _seed(py, {**os.environ, **SURGE_ENV, "PYTHONPATH": str(ROOT)}, fresh=args.fresh, signatures=500_000)
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}" TEMPLATE "{SEED_DB}"')
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    psql("VACUUM ANALYZE", DB_NAME)
    for db in ("5", "4"):
        subprocess.run(["redis-cli", "-n", db, "flushdb"], check=True, capture_output=True)
    made = subprocess.run([py, "-c", (
        "import django; django.setup()\n"
        "from api.services.tokens import api_token_create\n"
        "from petitions.models import Petition, PetitionMembership\n"
        f"p = Petition.objects.get(slug='{PETITION.split('/')[2]}')\n"
        "owner = PetitionMembership.objects.filter(petition=p, role='owner').first().user\n"
        "print(api_token_create(petition=p, by=owner, name='bench', can_write=True).secret, p.public_id,"
        " p.signatures.filter(state='confirmed').count())\n")], cwd=ROOT, env=env, check=True, capture_output=True,
        text=True).stdout.split()  # fmt: skip
    token, public_id, confirmed = made[-3], made[-2], int(made[-1])
    command, workers = _dockerfile_server()
    command = [str(Path(py).parent / "gunicorn") if part == "gunicorn" else part for part in command]
    command = [f"127.0.0.1:{PORT}" if part.startswith("0.0.0.0:") else part for part in command]
    tmp = Path(tempfile.mkdtemp(prefix="vigil-api-bench-"))
    logs = [open(tmp / name, "wb") for name in ("gunicorn.log", "worker.log", "beat.log")]  # noqa: SIM115
    processes = [
        subprocess.Popen([*command, "--workers", str(workers), "--backlog", "2048"], cwd=ROOT, env=env,
                         stdout=logs[0], stderr=subprocess.STDOUT),
        subprocess.Popen([py, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--without-gossip",
                          "--without-mingle", "--loglevel=WARNING"], cwd=ROOT, env=env, stdout=logs[1],
                         stderr=subprocess.STDOUT),
        subprocess.Popen([py, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING", "--schedule",
                          str(tmp / "beat")], cwd=ROOT, env=env, stdout=logs[2], stderr=subprocess.STDOUT),
    ]  # fmt: skip
    try:
        for _ in range(150):
            if subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{PORT}/healthz"]).returncode == 0:
                break
            time.sleep(0.2)
        for path in ("/robots.txt", PETITION, "/api/v1/"):
            subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{PORT}{path}"], check=True)
        names = ("web", "worker", "beat")
        pids = ",".join(f"{name}:{process.pid}" for name, process in zip(names, processes, strict=True))
        pids += f",postgres:{_postgres_pid()},redis:{_redis_pid()}"
        client = subprocess.run(
            [py, str(Path(__file__)), "--client", "--requests", str(args.requests), "--seconds", str(args.seconds),
             "--clients", str(args.clients), "--rounds", str(args.rounds), "--token", token, "--public-id", public_id,
             "--pids", pids],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if client.returncode != 0:
            raise RuntimeError(f"the load generator failed:\n{client.stderr}")
        data = json.loads(client.stdout.strip().splitlines()[-1])
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
    print(f"cpu cores: {os.cpu_count()}; the demo petition holds {confirmed:,} confirmed signatures; logs: {tmp}")
    pages = data["pages"]
    for name, timings in pages["timings"].items():
        print(f"  {name:<10} {len(timings)} requests: p50 {statistics.median(timings):.1f} ms, "
              f"p95 {_percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms")  # fmt: skip
    print(f"  page 4000, its first request (counted from the start): {pages['first_cold']:.1f} ms")
    for i, round_ in enumerate(data["recording"], 1):
        form, helper = round_["form"], round_["helper"]
        print(f"  round {i}: form {form['per_second']:.0f}/s (p50 {form['p50']:.0f} ms, p99 {form['p99']:.0f} ms, "
              f"errors {form['errors']}); helper {helper['per_second']:.0f}/s (p50 {helper['p50']:.0f} ms, "
              f"p99 {helper['p99']:.0f} ms, errors {helper['errors']}); helper / form = "
              f"{helper['per_second'] / form['per_second']:.2f}")  # fmt: skip
        for name, phase in (("form", form), ("helper", helper)):
            parts = ", ".join(f"{part} {used:.2f}" for part, used in phase["cpu_ms"].items())
            print(f"    {name:<6} CPU ms per accepted signature: {parts}; all {sum(phase['cpu_ms'].values()):.2f}")
    ratios = [r["helper"]["per_second"] / r["form"]["per_second"] for r in data["recording"]]
    print(f"  helper / form over {len(ratios)} rounds: median {statistics.median(ratios):.2f}, "
          f"lowest {min(ratios):.2f}, highest {max(ratios):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
