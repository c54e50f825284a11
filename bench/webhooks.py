"""Webhooks: what an endpoint costs each confirmation, and how fast its events reach a receiver.

Usage: .venv/bin/python bench/webhooks.py [--signatures 10000]

Method
- A database of its own (migrated), production settings, the machine's Redis; one open petition with --signatures
  pending signatures (bulk-inserted) and their confirmation links, and one webhook endpoint on 127.0.0.1
  (VIGIL_WEBHOOK_ALLOW_LOCAL) for every kind of event.
- Confirming: each signer is confirmed by the confirmation page's own service (signature_confirm), one after
  another, in blocks of 500 that alternate between the petition with its endpoint and without (its `sends_events`
  flag off, so nothing is written), so both halves meet the same table and the same machine. p50 and p95 per
  confirmation, and confirmations per second, of each half; the rate with the endpoint against the rate without.
- Sending: the events the half with the endpoint wrote, sent by the pump the worker runs (webhooks_pump, batches of
  VIGIL_WEBHOOK_BATCH) to a receiver in a process of its own that checks every request's signature and answers 204.
  Events per second from the pump's start to its end, the requests made, and the receiver's count of distinct
  idempotency keys and of bad signatures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_env, manage, recreate_database  # noqa: E402

DB_NAME = "vigil_bench_webhooks"
RECEIVER_PORT = 8341
BLOCK = 500

RECEIVER = r"""
import hashlib, hmac, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
secret = sys.argv[2].encode()
keys, requests, bad = set(), [0], [0]
class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        fields = dict(part.split("=", 1) for part in self.headers["Vigil-Signature"].split(","))
        expected = hmac.new(secret, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["v1"]):
            bad[0] += 1
        keys.update(event["idempotency_key"] for event in json.loads(body))
        requests[0] += 1
        self.send_response(204)
        self.end_headers()
    def do_GET(self):
        body = json.dumps({"keys": len(keys), "requests": requests[0], "bad": bad[0]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=10_000)
    args = parser.parse_args()
    print(__doc__.split("Method")[1].strip(), "\n", flush=True)
    env = bench_env(database=DB_NAME, redis_db=9, CELERY_BROKER_URL="redis://127.0.0.1:6379/10",
                    VIGIL_WEBHOOK_ALLOW_LOCAL="1", VIGIL_SIGN_INTAKE="0")  # fmt: skip
    recreate_database(DB_NAME)
    manage(env, "migrate", "-v", "0")
    os.environ.update(env)
    import django

    django.setup()
    from django.utils import timezone

    from accounts.models import User
    from api.models import WebhookDelivery
    from api.services.webhooks import webhook_endpoint_create, webhooks_pump
    from core.models import EventKind
    from petitions.models import MembershipRole, Petition, PetitionMembership, PetitionStatus
    from signatures.models import Signature, SignatureState
    from signatures.services.signing import signature_confirm, signature_confirm_token

    now = timezone.now()
    owner = User.objects.create_superuser("bench-owner", "owner@bench.example", "bench-only-password-1")
    petition = Petition.objects.create(title="Bench", slug="bench", target_name="Dana Chief", ask="Stop.",
                                       body="<p>Why.</p>", status=PetitionStatus.OPEN, opened_at=now)  # fmt: skip
    PetitionMembership.objects.create(petition=petition, user=owner, role=MembershipRole.OWNER)
    rows = [Signature(petition=petition, first_name="Signer", last_name=f"N{n}", email=f"s{n}@example.org",
                      canonical_email=f"s{n}@example.org", email_domain="example.org", country="GB",
                      state=SignatureState.PENDING, created_at=now, mail_count=1)
            for n in range(args.signatures)]  # fmt: skip
    tokens = [signature_confirm_token(signature=s) for s in Signature.objects.bulk_create(rows, batch_size=5000)]
    receiver = None
    try:
        made = webhook_endpoint_create(
            petition=petition, by=owner, url=f"http://127.0.0.1:{RECEIVER_PORT}/hook", kinds=list(EventKind.values)
        )
        receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(RECEIVER_PORT), made.secret])
        timings: dict[bool, list[float]] = {True: [], False: []}
        spent: dict[bool, float] = {True: 0.0, False: 0.0}
        for start in range(0, len(tokens), BLOCK):
            with_endpoint = (start // BLOCK) % 2 == 0
            Petition.objects.filter(pk=petition.pk).update(sends_events=with_endpoint)
            block_started = time.perf_counter()
            for token in tokens[start : start + BLOCK]:
                started = time.perf_counter()
                _signature, first = signature_confirm(token=token)
                timings[with_endpoint].append(1000 * (time.perf_counter() - started))
                assert first
            spent[with_endpoint] += time.perf_counter() - block_started
        Petition.objects.filter(pk=petition.pk).update(sends_events=True)

        started = time.perf_counter()
        delivered = webhooks_pump(max_seconds=600)
        sending = time.perf_counter() - started
        with urllib.request.urlopen(f"http://127.0.0.1:{RECEIVER_PORT}/count") as response:
            counted = json.loads(response.read())
        waiting = WebhookDelivery.objects.filter(delivered_at__isnull=True).count()
    finally:
        if receiver is not None:
            receiver.terminate()
            receiver.wait()

    print(f"cpu cores: {os.cpu_count()}; {args.signatures:,} signatures confirmed, in blocks of {BLOCK}")
    rates = {}
    for with_endpoint in (False, True):
        found = timings[with_endpoint]
        rates[with_endpoint] = len(found) / spent[with_endpoint]
        print(f"  confirming {'with an endpoint   ' if with_endpoint else 'without an endpoint'}: {len(found):,} in "
              f"{spent[with_endpoint]:.1f} s, {rates[with_endpoint]:.0f}/s, p50 {statistics.median(found):.2f} ms, "
              f"p95 {_percentile(found, 0.95):.2f} ms")  # fmt: skip
    print(f"  with / without: {rates[True] / rates[False]:.2f}")
    print(f"  sending: {delivered:,} events in {sending:.2f} s ({delivered / sending:,.0f} events/s), "
          f"{counted['requests']} requests; the receiver counted {counted['keys']:,} distinct keys, "
          f"{counted['bad']} bad signatures; {waiting} deliveries left waiting")  # fmt: skip


if __name__ == "__main__":
    main()
