"""The new signer's sweep, on a production-like stack: sign through the form, confirm from the e-mailed link, the
petition closes, then 800 days of privacy rules (`manage.py privacy_sweep --now ...`). Afterwards `pg_dump
--data-only` of the whole database and every file under the site's file roots hold no trace of the signer's
address or surname."""

import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from tests.drills.stack import PY, ROOT, Stack
from tests.throwaway import postgres_binaries

pytestmark = pytest.mark.drill

EMAIL, SURNAME = "Sweep.Person+news@Example.org", "Thistlewaite"
NEEDLES = ("sweep.person", "sweepperson", SURNAME.lower())


def _post(stack: Stack, path: str, form: dict, token: str) -> int:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=15)
    connection.request("POST", path, body=urlencode({**form, "csrfmiddlewaretoken": token}),
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "Cookie": f"csrftoken={token}"})  # fmt: skip
    response = connection.getresponse()
    response.read()
    return response.status


def _traces(stack: Stack) -> list[str]:
    dump = subprocess.run(
        [str(postgres_binaries() / "pg_dump"), "--data-only", "--dbname", stack.database_url],
        check=True, capture_output=True, text=True,
    ).stdout.lower()  # fmt: skip
    found = [f"pg_dump: {needle}" for needle in NEEDLES if needle in dump]
    for root in (stack.root / "media", stack.root / "private"):
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file():
                content = path.read_bytes().lower()
                found += [f"{path}: {needle}" for needle in NEEDLES if needle.encode() in content]
    return found


def test_a_signer_leaves_no_trace_after_800_days_of_the_schedule(stack):
    slug = "privacy-sweep"
    stack.open_petition(slug)
    token = stack.csrf_token(slug)
    form = {"first_name": "Sweep", "last_name": SURNAME, "email": EMAIL, "country": "GB", "region": "",
            "town": "Leeds", "postal_code": "LS1 1AA", "website": ""}  # fmt: skip
    assert _post(stack, f"/petitions/{slug}/sign/", form, token) == 303
    link = None
    deadline = time.monotonic() + 30
    while link is None and time.monotonic() < deadline:
        for path in stack.mail_dir.iterdir():
            found = re.search(r"https?://[^/\s]+(/petitions/confirm/[^\s\"<]+/)", path.read_text(errors="replace"))
            if found and "sweep.person" in path.read_text(errors="replace").lower():
                link = found.group(1)
        time.sleep(0.2)
    assert link, "the confirmation e-mail did not arrive"
    assert stack.get(link)[0] == 200
    assert _post(stack, link, {}, token) == 200
    [(state,)] = stack.sql("SELECT state FROM signatures_signature WHERE petition_id = (SELECT id FROM "
                           "petitions_petition WHERE slug = %s)", (slug,))  # fmt: skip
    assert state == "confirmed"
    assert _traces(stack), "the search finds the signer before the rules run"
    stack.manage(
        "from petitions.models import Petition\nfrom petitions.services.lifecycle import petition_close\n"
        f"petition_close(petition=Petition.objects.get(slug={slug!r}))"
    )
    start = datetime.now(tz=UTC)
    for days in (1, 15, 40, 200, 400, 800):
        subprocess.run([PY, "manage.py", "privacy_sweep", "--now", (start + timedelta(days=days)).isoformat()],
                       cwd=ROOT, env=stack.env(), check=True, capture_output=True)  # fmt: skip
    assert _traces(stack) == []
