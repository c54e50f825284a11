"""Shared setup of the deliverables benchmarks: a database of their own with one petition of N confirmed signatures.

Each measurement runs in a fresh Python subprocess (`python -m bench.deliverables_common measure ...`) so that its
peak memory (resource.getrusage's ru_maxrss of that process) is its own, not the setup's.
"""

import json
import os
import resource
import subprocess
import sys
import time

from bench.common import PY, ROOT, bench_env, manage, recreate_database

DATABASE = "vigil_bench_deliverables"
REDIS_DB = 11


def env(**extra: str) -> dict[str, str]:
    return bench_env(
        database=DATABASE,
        redis_db=REDIS_DB,
        VIGIL_PRIVATE_ROOT=str(ROOT / "var" / "bench" / "private"),
        DJANGO_MEDIA_ROOT=str(ROOT / "var" / "bench" / "media"),
        **extra,
    )


def setup_database(*, rows: int, fresh: bool) -> None:
    """Create and migrate the bench database (when fresh) and make sure the bench petition has `rows` signatures."""
    e = env()
    if fresh:
        recreate_database(DATABASE)
    manage(e, "migrate", "--noinput", "-v", "0")  # also brings a kept database up to the code's migrations
    subprocess.run([PY, "-m", "bench.deliverables_common", "populate", str(rows)], cwd=ROOT, env=e, check=True)


def measure(*args: str) -> dict:
    """Run one measurement in its own process; returns its JSON answer (with peak_mb added)."""
    result = subprocess.run(
        [PY, "-m", "bench.deliverables_common", "measure", *args],
        cwd=ROOT,
        env=env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _django():
    import django

    django.setup()


def _populate(rows: int) -> None:
    _django()
    from accounts.models import User
    from demo.campaign import demo_signatures_add
    from petitions.models import Petition, PetitionStatus
    from signatures.models import Signature

    petition, _ = Petition.objects.get_or_create(
        slug="bench-packet",
        defaults={
            "title": "Bench packet petition",
            "target_name": "The chief executive",
            "target_organisation": "The company",
            "target_email": "ceo@company.example",
            "ask": "Stop it.",
            "body": "<p>Because it matters.</p>",
            "status": PetitionStatus.CLOSED,
            "opened_at": "2026-01-01T00:00:00Z",
            "closed_at": "2026-02-01T00:00:00Z",
        },
    )
    have = Signature.objects.filter(petition=petition).count()
    if have < rows:
        demo_signatures_add(petition=petition, count=rows - have)
    user, _ = User.objects.get_or_create(username="bench-organiser", defaults={"email": "organiser@bench.example"})
    from deliverables.demo import demo_deliverables_ensure

    demo_deliverables_ensure(petition=petition, organiser=user)
    print(f"petition {petition.pk}: {Signature.objects.filter(petition=petition).count():,} signatures")


def _measure(kind: str, *rest: str) -> None:
    _django()
    from django.db import connection

    from deliverables.models import PacketExport
    from deliverables.services.packets import packet_copy_sql, packet_export_run
    from petitions.models import Petition

    petition = Petition.objects.get(slug="bench-packet")
    started = time.perf_counter()
    answer: dict = {"kind": kind}
    if kind == "copy":  # PostgreSQL's own COPY of the same rows into a file: the floor
        path = ROOT / "var" / "bench" / "copy.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        connection.ensure_connection()
        with open(path, "wb") as handle, connection.connection.cursor() as cursor:
            cursor.copy_expert(packet_copy_sql(petition_id=petition.pk), handle, size=1 << 16)
        answer["bytes"] = path.stat().st_size
    elif kind == "copy_plain":  # COPY of the plain columns, without the cleaning expressions
        path = ROOT / "var" / "bench" / "copy-plain.csv"
        sql = (
            "COPY (SELECT first_name || ' ' || last_name, town, region, country, postal_code, created_at, "
            f"confirmed_at FROM signatures_signature WHERE petition_id = {petition.pk} AND state = 'confirmed' "
            'ORDER BY country COLLATE "C", region COLLATE "C", confirmed_at, id) TO STDOUT WITH CSV HEADER'
        )
        connection.ensure_connection()
        with open(path, "wb") as handle, connection.connection.cursor() as cursor:
            cursor.copy_expert(sql, handle, size=1 << 16)
        answer["bytes"] = path.stat().st_size
    elif kind in ("csv", "pdf"):
        export = PacketExport.objects.create(petition=petition, kind=kind)
        started, cpu_started = time.perf_counter(), time.process_time()
        export = packet_export_run(export_id=export.pk)
        answer["cpu_seconds"] = round(time.process_time() - cpu_started, 3)
        answer.update(rows=export.rows_total, bytes=export.file_size, state=export.state, error=export.error)
    elif kind == "letter":
        from deliverables.models import Letter
        from deliverables.services.letters import letter_compile_request, letter_compile_run

        letter = Letter.objects.get(petition=petition, slug=rest[0])
        compiled = letter_compile_request(letter=letter, by=None, queue=False)
        started = time.perf_counter()
        compiled = letter_compile_run(compile_id=compiled.pk)
        answer.update(
            signatories=compiled.signatory_count, bytes=compiled.file_size, state=compiled.state, error=compiled.error
        )
    answer["seconds"] = round(time.perf_counter() - started, 3)
    answer["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(answer))


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    command, *arguments = sys.argv[1:]
    if command == "populate":
        _populate(int(arguments[0]))
    elif command == "measure":
        _measure(*arguments)
