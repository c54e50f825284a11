"""Mailing an update to 150,000 signers: how soon it is queued, the worker's memory, the sending rate, and what a
mailing going out costs the petition page and the signing flow.

Usage: .venv/bin/python bench/mailing.py [--audience 150000] [--seconds 15] [--clients 64]

Method
- The surge benchmark's database and servers (bench/surge.py: its template database with the demo petition and
  500,000 extra confirmed signatures, cloned; production settings; gunicorn as the Dockerfile runs it; a Celery
  worker of 2 processes and beat; e-mail handed to Django's dummy backend, so the rate is Vigil's, not a mail
  server's). The first --audience confirmed signatures of the demo petition agree to hear from the organisers, no
  other does.
- Loads: the surge benchmark's own load generator runs its `petition` phase (GET the petition page as new
  visitors) and its `flow` phase (sign as a new signer, the thanks page, the confirmation page and its button),
  --seconds each, --clients at once; each load's signers are new people.
- Rounds: a load without a mailing; then, --rounds times, a mailing and a load at once, followed by a load without
  one once every message of the mailing is sent. A mailing: one update written, published, asked for by one owner
  and approved by another (the services the organiser pages call); the worker queues it, the pump sends it; the run
  reports how many of its messages were sent when the load ended (it was still going out).
- Reported per mailing: approval to the last message queued (seconds); the worker processes' resident memory
  before and at peak (sampled every 0.1 s from /proc, VmRSS, each process); messages per second from the first
  message sent to the last; messages, distinct signers and signers with more than one message. Then each load
  with a mailing against the mean of the loads without one just before and after it (the machine drifts within a
  run): the page's requests/s, signatures/s and complete flows/s.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import descendants, psql, redis_persistence  # noqa: E402
from bench.surge import DB_NAME, ENV, PETITION, SEED_DB, _seed, against_neighbours, completed, load_run, stack  # noqa: E402

MAILING_SCRIPT = r"""
import django, json, sys
django.setup()
from django.utils import timezone
from accounts.models import User
from petitions.models import MembershipRole, Petition, PetitionMembership
from petitions.services.mailings import update_mailing_approve, update_mailing_request
from petitions.services.updates import petition_update_create, petition_update_publish
petition = Petition.objects.get(slug=sys.argv[1])
owners = []
for name in ("first", "second"):
    user, _ = User.objects.get_or_create(email=f"{name}-owner@bench.example", defaults={"username": f"{name}-owner"})
    PetitionMembership.objects.update_or_create(petition=petition, user=user, defaults={"role": MembershipRole.OWNER})
    owners.append(user)
update = petition_update_create(petition=petition, by=owners[0], title="The company replied",
                                body="<p>It will pause the sales while it reviews them.</p><p>Thank you.</p>")
petition_update_publish(update=update)
mailing = update_mailing_request(update=update, by=owners[0])
update_mailing_approve(mailing=mailing, by=owners[1])
mailing.refresh_from_db()
print(json.dumps({"mailing": mailing.pk, "key": mailing.key, "audience": mailing.audience}))
"""


def _sql(query: str) -> str:
    return psql(query, DB_NAME)


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return int(re.search(r"VmRSS:\s+(\d+)", handle.read()).group(1))
    except (OSError, AttributeError):
        return 0


def _load(py: str, env: dict, args, server_pid: int, *, first_signer: int) -> dict:
    data = load_run(py, env, port=args.port, server_pid=server_pid, seconds=args.seconds, clients=args.clients,
                    only="petition,flow", first_signer=first_signer)  # fmt: skip
    petition, flow = data["petition"], data["flow"]
    return {
        "page_per_second": completed(petition, "get") / petition["seconds"],
        "signed_per_second": completed(flow, "thanks") / flow["seconds"],
        "flows_per_second": min(completed(flow, "thanks"), completed(flow, "confirm_post")) / flow["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--audience", type=int, default=150_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--port", type=int, default=8204)
    parser.add_argument("--rounds", type=int, default=2, help="mailings (each between two loads without one)")
    parser.add_argument("--control", action="store_true", help="no mailing: every load is one without")
    args = parser.parse_args()
    py = str(ROOT / ".venv" / "bin" / "python")
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    print(__doc__.split("Method")[1].strip(), "\n", flush=True)
    with redis_persistence("everysec"):
        _run(args, py, env)


def _run(args, py: str, env: dict) -> None:
    _seed(py, env, fresh=False, signatures=500_000)
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}" TEMPLATE "{SEED_DB}"')
    for db in ("9", "8"):
        subprocess.run(["redis-cli", "-n", db, "flushdb"], check=True, capture_output=True)
    slug = PETITION.split("/")[2]
    petition_id = int(_sql(f"SELECT id FROM petitions_petition WHERE slug = '{slug}'"))
    _sql(
        f"UPDATE signatures_signature SET contact_ok = (id IN (SELECT id FROM signatures_signature WHERE "
        f"petition_id = {petition_id} AND state = 'confirmed' ORDER BY id LIMIT {args.audience}))"
    )
    _sql("VACUUM ANALYZE signatures_signature")

    loads: list[tuple[str, dict]] = []
    mailings: list[dict] = []
    with stack(py, env, port=args.port, prefix="vigil-mailing-") as running:
        processes, tmp = running.processes, running.logs
        server, worker = processes[0].pid, processes[1]
        people = iter(range(0, 10**9, 1_000_000))  # each load's signers are new people
        pids = [worker.pid, *descendants(worker.pid)]

        def load(label: str) -> dict:
            figures = _load(py, env, args, server, first_signer=next(people))
            loads.append((label, figures))
            print(f"{label:<8} page {figures['page_per_second']:7.1f}/s  signed {figures['signed_per_second']:6.1f}/s"
                  f"  complete flows {figures['flows_per_second']:6.1f}/s", flush=True)  # fmt: skip
            time.sleep(3)  # its confirmations e-mailed and counted before what follows
            return figures

        load("without")
        for _round in range(args.rounds):
            if args.control:
                load("control")
                load("without")
                continue
            mailings.append(_mailing(py, env, slug, pids, lambda: load("with")))
            load("without")

    print(f"\ncpu cores: {os.cpu_count()}   logs: {tmp}")
    for number, mailing in enumerate(mailings, 1):
        print(f"mailing {number}: {mailing['audience']:,} signers; approval to the last message queued: "
              f"{mailing['queued_after']:.1f} s; sending {mailing['rate']:.0f} messages/s (first to last sent), "
              f"approval to the last sent {mailing['finished']:.0f} s")  # fmt: skip
        print(f"  worker processes' resident memory, before -> peak (MB): {mailing['memory']}")
        print(f"  sent {mailing['sent']:,} of {mailing['total']:,} messages to {mailing['signers']:,} distinct "
              f"signers; signers with more than one message: {mailing['twice']}; "
              f"{mailing['during']:,} sent when the load ended")  # fmt: skip
    # Each load with a mailing against the mean of the loads without one just before and after it (drift).
    for name in ("page_per_second", "signed_per_second", "flows_per_second"):
        shown = ", ".join(f"{ratio:.2f}" for ratio in against_neighbours(loads, name, ("with", "control")))
        print(f"{name.replace('_', ' ')}, with against without (the loads either side): {shown}")


def _mailing(py: str, env: dict, slug: str, pids: list[int], during_load) -> dict:
    """Write, publish, ask for and approve an update's mailing; run `during_load` while it goes out; wait until
    every message is sent; and say how it went."""
    rss_before = {pid: _rss_kb(pid) for pid in pids}
    peak = dict(rss_before)
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], _rss_kb(pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    made = subprocess.run([py, "-c", MAILING_SCRIPT, slug], cwd=ROOT, env=env, capture_output=True, text=True)
    if made.returncode != 0:
        raise RuntimeError(made.stderr)
    mailing = json.loads(made.stdout.strip().splitlines()[-1])
    approved = time.time()
    key = mailing["key"]
    during_load()
    during = int(_sql(f"SELECT count(*) FROM core_outboundemail WHERE mailing = '{key}' AND sent_at IS NOT NULL"))
    queued_after = None
    deadline = time.time() + 1800
    while time.time() < deadline:
        state, queued_at = _sql(
            f"SELECT state, coalesce(extract(epoch FROM queued_at - approved_at)::text, '') "
            f"FROM petitions_updatemailing WHERE id = {mailing['mailing']}"
        ).split("|")
        if queued_at and queued_after is None:
            queued_after = float(queued_at)
        waiting = int(_sql(f"SELECT count(*) FROM core_outboundemail WHERE mailing = '{key}' "
                           "AND sent_at IS NULL AND failed_at IS NULL"))  # fmt: skip
        if state == "queued" and not waiting:
            break
        time.sleep(1)
    finished = time.time() - approved
    sampling.set()
    sampler.join()
    total, sent, signers, first, last = _sql(
        f"SELECT count(*), count(sent_at), count(DISTINCT (render_context->>'signature_id')), "
        f"extract(epoch FROM min(sent_at)), extract(epoch FROM max(sent_at)) "
        f"FROM core_outboundemail WHERE mailing = '{key}'"
    ).split("|")
    twice = int(_sql(f"SELECT count(*) FROM (SELECT render_context->>'signature_id' FROM core_outboundemail "
                     f"WHERE mailing = '{key}' GROUP BY 1 HAVING count(*) > 1) AS t"))  # fmt: skip
    memory = ", ".join(f"{rss_before[pid] / 1024:.0f} -> {peak[pid] / 1024:.0f}" for pid in pids)
    return {"audience": mailing["audience"], "queued_after": queued_after, "finished": finished,
            "rate": int(sent) / max(float(last) - float(first), 1e-9), "memory": memory, "total": int(total),
            "sent": int(sent), "signers": int(signers), "twice": twice, "during": during}  # fmt: skip


if __name__ == "__main__":
    main()
