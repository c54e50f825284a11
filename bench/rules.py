"""What signature rules cost the sign path: the check itself with 10,000 rules, and the surge's signing with and
without them.

Usage: .venv/bin/python bench/rules.py [--rules 10000] [--checks 20000] [--seconds 15] [--clients 64] [--rounds 2]
       [--only check,surge]

Method
- check: a fresh PostgreSQL database (vigil_bench_rules), migrated, production settings. --rules rules of every
  kind, a realistic mix: for the demo petition, 30 % domains, 5 % domain patterns, 20 % addresses, 20 % IPv4
  ranges (/16 to /32), 10 % IPv6 ranges (/32 to /64) and a few country limits; for every petition, 15 % domains
  and the disposable-domains list. Then, in this process, signature_rules_check (what the sign form calls) for
  --checks signers: nine in ten ordinary (a common mail provider or a company domain, an IPv4 or IPv6 address
  outside every range), one in ten caught by a rule (an address, a domain or subdomain, a pattern, a range, a
  Unicode domain, which takes the look-alike path). Each check is timed alone (perf_counter_ns), after 1,000
  warm-up checks, and the same signers are checked again with no rules at all. Reported: mean, p50, p95, p99 per
  check, in ms.
- surge: the surge benchmark's stack (bench/surge.py: its template database, production settings, gunicorn as the
  Dockerfile runs it, a 2-process Celery worker and beat). Its `flow` load (sign as a new signer, the thanks page,
  the confirmation page and its button), --seconds, --clients at once, each load's signers new people. Loads
  alternate: without rules, then --rounds times with --rules rules loaded (as above, none matching the load's
  signers: their cost is what is measured, not held signatures) and without them again. Rules are added and
  removed in the database; the servers see the change within VIGIL_SIGNATURE_RULES_SECONDS (2 s), and the load
  starts 5 s later. Each load with rules is compared with the mean of the loads without them just before and
  after it (the machine drifts within a run), and the mean of all loads with rules against the mean of all loads
  without: signatures/s and complete flows/s.
"""

import argparse
import ipaddress
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_env, psql, recreate_database, redis_persistence  # noqa: E402

DATABASE = "vigil_bench_rules"
COMMON = ["gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "icloud.com", "posteo.de", "web.de", "gmx.net"]


def rule_rows(*, count: int, petition_id: int, seed: int = 11) -> list[dict]:
    """The rules' values, kinds and scopes (none of them matching COMMON domains, nor the load's addresses)."""
    rng = random.Random(seed)
    shares = [
        ("domain", 0.30, True), ("pattern", 0.05, True), ("address", 0.20, True), ("ipv4", 0.20, True),
        ("ipv6", 0.10, True), ("domain", 0.15, False),
    ]  # fmt: skip
    rows: list[dict] = []
    seen: set[tuple] = set()
    for kind, share, on_petition in shares:
        scope = petition_id if on_petition else None
        wanted, n = int(count * share), 0
        while wanted:
            n += 1
            if kind == "domain":
                row = {"kind": "domain", "value": f"farm{n}{'p' if on_petition else 'g'}.example"}
            elif kind == "pattern":
                row = {"kind": "domain", "value": f"spam{n}-*.example"}
            elif kind == "address":
                row = {"kind": "address", "value": f"bot{n}@bulk{n % 50}.example"}
            elif kind == "ipv4":
                network = ipaddress.ip_network(
                    f"10.{n % 250}.{n // 250 % 250}.{n % 7}/{rng.choice([16, 20, 24, 28, 32])}", strict=False
                )
                row = {"kind": "ip_range", "value": str(network)}
            else:
                network = ipaddress.ip_network(
                    f"2001:db8:{n:x}:{n % 97:x}::/{rng.choice([32, 48, 56, 64])}", strict=False
                )
                row = {"kind": "ip_range", "value": str(network)}
            row["petition"] = scope
            key = (row["kind"], row["value"], scope)
            if key not in seen:
                seen.add(key)
                rows.append(row)
                wanted -= 1
    for country in ("FR", "DE", "US"):
        rows.append({"kind": "country_limit", "value": country, "petition": petition_id, "limit": 10**9})
    rows.append({"kind": "disposable", "value": "", "petition": None})
    return rows


def _insert_sql(rows: list[dict]) -> str:
    values = ",".join(
        "('{kind}', 'mark', '{value}', {limit}, {petition}, now(), now(), '')".format(
            kind=row["kind"], value=row["value"], limit=row.get("limit") or "NULL", petition=row["petition"] or "NULL"
        )
        for row in rows
    )
    return (
        'INSERT INTO signatures_signaturerule (kind, action, value, "limit", petition_id, created_at, changed_at, '
        f"note) VALUES {values}"
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _signers(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(canonical e-mail, address, country): nine in ten ordinary, one in ten caught."""
    caught = [
        lambda n: (f"bot{n % 2000}@bulk{n % 2000 % 50}.example", "198.51.100.7", "GB"),
        lambda n: (f"x{n}@mail.farm{n % 3000}p.example", "198.51.100.7", "GB"),
        lambda n: (f"x{n}@spam{n % 500}-a.example", "198.51.100.7", "GB"),
        lambda n: (f"x{n}@example.org", f"10.{n % 250}.0.{n % 7}", "GB"),
        lambda n: (f"x{n}@example.org", f"2001:db8:{n % 1000:x}:{n % 1000 % 97:x}::5", "GB"),
        lambda n: (f"x{n}@xn--frm1p-fuf.example", "198.51.100.7", "GB"),  # Unicode: the look-alike path, no match
    ]
    signers = []
    for n in range(count):
        if n % 10 == 9:
            signers.append(rng.choice(caught)(n))
            continue
        domain = rng.choice(COMMON) if n % 3 else f"company{n % 400}.co.uk"
        ip = f"203.0.{n % 250}.{n % 200 + 1}" if n % 4 else f"2a00:1450:{n % 9000:x}::{n % 500:x}"
        signers.append((f"person{n}@{domain}", ip, "GB"))
    return signers


def check(args) -> None:
    recreate_database(DATABASE)
    os.environ.update(bench_env(database=DATABASE, redis_db=13))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from signatures.services import rules
    from tests.petitions.factories import OpenPetitionFactory

    petition = OpenPetitionFactory()
    rng = random.Random(5)
    signers = _signers(args.checks, rng)

    def timed() -> list[float]:
        rules.signature_rules_forget()
        for email, ip, country in signers[:1000]:
            rules.signature_rules_check(petition_id=petition.pk, canonical_email=email, ip=ip, country=country)
        spent, caught = [], 0
        for email, ip, country in signers:
            start = time.perf_counter_ns()
            verdict = rules.signature_rules_check(
                petition_id=petition.pk, canonical_email=email, ip=ip, country=country
            )
            spent.append((time.perf_counter_ns() - start) / 1e6)
            caught += verdict is not None
        return spent, caught

    empty, _none = timed()
    rows = rule_rows(count=args.rules, petition_id=petition.pk)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(rows))
    loaded, caught = timed()
    print(f"{len(rows):,} rules; {len(signers):,} checks, {caught:,} caught by a rule")
    for label, spent in (("no rules", empty), (f"{len(rows):,} rules", loaded)):
        print(f"  {label:<14} mean {statistics.fmean(spent):.4f} ms  p50 {_percentile(spent, 0.5):.4f} ms  "
              f"p95 {_percentile(spent, 0.95):.4f} ms  p99 {_percentile(spent, 0.99):.4f} ms")  # fmt: skip
    start = time.perf_counter()
    rules.signature_rules_forget()
    rules.signature_rules_check(petition_id=petition.pk, canonical_email="a@b.example", ip="", country="GB")
    print(f"  compiling {len(rows):,} rules after a change (once per process): {time.perf_counter() - start:.2f} s")


def surge(args) -> None:
    from bench.surge import DB_NAME, ENV, PETITION, SEED_DB, _seed, against_neighbours, completed, load_run, stack

    py = str(ROOT / ".venv" / "bin" / "python")
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    _seed(py, env, fresh=False, signatures=500_000)
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}" TEMPLATE "{SEED_DB}"')
    for db in ("9", "8"):
        subprocess.run(["redis-cli", "-n", db, "flushdb"], check=True, capture_output=True)
    slug = PETITION.split("/")[2]
    petition_id = int(psql(f"SELECT id FROM petitions_petition WHERE slug = '{slug}'", DB_NAME))
    insert = _insert_sql(rule_rows(count=args.rules, petition_id=petition_id))

    loads: list[tuple[str, dict]] = []
    with stack(py, env, port=args.port, prefix="vigil-rules-") as running:
        processes, tmp = running.processes, running.logs
        people = iter(range(0, 10**9, 1_000_000))

        def load(label: str) -> None:
            flow = load_run(py, env, port=args.port, server_pid=processes[0].pid, seconds=args.seconds,
                            clients=args.clients, only="flow", first_signer=next(people))["flow"]  # fmt: skip
            signed, confirmed = completed(flow, "thanks"), completed(flow, "confirm_post")
            figures = {
                "signed_per_second": signed / flow["seconds"],
                "flows_per_second": min(signed, confirmed) / flow["seconds"],
            }
            loads.append((label, figures))
            print(f"{label:<8} signed {figures['signed_per_second']:6.1f}/s  complete flows "
                  f"{figures['flows_per_second']:6.1f}/s", flush=True)  # fmt: skip
            time.sleep(3)

        load("without")
        for _round in range(args.rounds):
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB_NAME, "-q", "-v", "ON_ERROR_STOP=1"],
                input=insert, text=True, check=True, capture_output=True,
            )  # fmt: skip
            held = psql("SELECT count(*) FROM signatures_signaturerule WHERE removed_at IS NULL", DB_NAME)
            time.sleep(5)  # every process sees the rules (VIGIL_SIGNATURE_RULES_SECONDS) and compiles them
            load("with")
            psql("DELETE FROM signatures_signaturerule", DB_NAME)
            time.sleep(5)
            load("without")
        marked = psql("SELECT count(*) FROM signatures_signature WHERE marked", DB_NAME)
    print(f"\ncpu cores: {os.cpu_count()}   rules loaded in the loads with: {held}   signatures held: {marked}   "
          f"logs: {tmp}")  # fmt: skip
    for name in ("signed_per_second", "flows_per_second"):
        shown = ", ".join(f"{ratio:.3f}" for ratio in against_neighbours(loads, name, ("with",)))
        pooled = statistics.fmean(f[name] for label, f in loads if label == "with") / statistics.fmean(
            f[name] for label, f in loads if label == "without"
        )
        print(f"{name.replace('_', ' ')}, with rules against without (the loads either side): {shown}; "
              f"every load with against every load without: {pooled:.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--port", type=int, default=8206)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="check,surge")
    args = parser.parse_args()
    print(__doc__.split("Method")[1].strip(), "\n", flush=True)
    parts = args.only.split(",")
    if "surge" in parts:
        with redis_persistence("everysec"):
            surge(args)
    if "check" in parts:
        check(args)


if __name__ == "__main__":
    main()
