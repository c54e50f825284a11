"""The parts apart: a web server and a worker that share no disk, as if on two hosts (var directories of their own),
with every file in an S3-compatible object store (moto's server, in a process of its own). What one writes, the other
reads through the store:
- a logo uploaded through the web is rendered by the worker and shown on the public page;
- packets made by the worker are delivered by it: one attached to the e-mail, the other downloaded through the web
  from the link the e-mail carries.
"""

import io
import re
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.drills.stack import Stack
from tests.throwaway import ThrowawayS3, ensure_installed

BUCKET = "vigil-hosts"


@pytest.fixture(scope="module")
def object_store(tmp_path_factory):
    with ThrowawayS3(tmp_path_factory.mktemp("s3"), bucket=BUCKET) as store:
        yield store


@pytest.fixture(scope="module")
def hosts(object_store, tmp_path_factory):
    client = object_store.client()
    ensure_installed()
    root = tmp_path_factory.mktemp("hosts")
    site = Stack(root)
    site.extra_env = {
        **object_store.settings("VIGIL_S3_"),
        # A delivery attaches what fits under 1,000 bytes (the CSV packet of a petition with no signatures) and links
        # to the rest (its PDF packet), for the web to serve.
        "VIGIL_DELIVERY_MAX_ATTACHMENT_BYTES": "1000",
    }
    for host in ("web", "worker", "beat", "manage"):
        var = root / f"host-{host}"
        site.host_env[host] = {"DJANGO_VAR_DIR": str(var), "DJANGO_MEDIA_ROOT": str(var / "media"),
                               "VIGIL_PRIVATE_ROOT": str(var / "private")}  # fmt: skip
    try:
        site.start()
        yield site, client, root
    finally:
        site.stop()


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 160), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


def _wait(predicate, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    return None


def _keys(client, prefix: str) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def test_what_one_host_writes_the_other_serves(hosts):
    site, client, root = hosts
    site.open_petition("apart")
    site.manage(
        "from petitions.models import Petition\n"
        "from deliverables.services.letters import letter_create, letter_open\n"
        "p = Petition.objects.get(slug='apart')\n"
        "letter_open(letter=letter_create(petition=p, kind='coalition', slug='coalition', title='Stop it',"
        " body='Dear CEO,', by=None))\n"
    )

    # A logo uploaded through the web: stored in the bucket by the web, rendered by the worker.
    session = requests.Session()
    page = f"http://127.0.0.1:{site.port}/petitions/apart/letters/coalition/"
    session.get(page)
    token = session.cookies["csrftoken"]
    form = {"name": "Open Rights Group", "website": "https://openrights.example/", "signer_name": "Ada Lee",
            "signer_role": "Director", "email": "ada@openrights.example", "csrfmiddlewaretoken": token}  # fmt: skip
    answer = session.post(
        page, data=form, files={"logo": ("logo.png", _logo(), "image/png")}, headers={"Referer": page}
    )
    assert answer.status_code == 200, answer.text[:2000]
    renditions = _wait(lambda: [k for k in _keys(client, "media/signons/") if k.endswith(".webp")])
    assert renditions, f"the worker made no rendition:\n{site.log('worker')[-3000:]}"
    site.manage(
        "from deliverables.models import SignOn\n"
        "from deliverables.services.signons import signon_confirm, signon_confirm_token, signon_review\n"
        "s = SignOn.objects.get()\n"
        "signon_confirm(token=signon_confirm_token(signon=s))\n"
        "signon_review(signon=SignOn.objects.get(), verify=True, by=None)\n"
    )
    shown = _wait(lambda: requests.get(page).text if "Open Rights Group" in requests.get(page).text else None)
    assert shown and any(key.removeprefix("media/") in shown for key in renditions)  # the page shows the rendition

    # Packets made by the worker and delivered by it: one attached to the e-mail, one downloaded through the web
    # from the link the e-mail carries. The web never wrote either.
    site.manage(
        "from petitions.models import Petition\n"
        "from deliverables.services.packets import packet_export_request\n"
        "p = Petition.objects.get(slug='apart')\n"
        "for kind in ('csv', 'pdf'):\n"
        "    packet_export_request(petition=p, kind=kind, include_emails=False, by=None, role='owner')\n"
    )
    query = "SELECT kind, id, file_name, file_size FROM signatures_packetexport WHERE state = 'done' ORDER BY kind"
    done = _wait(lambda: (rows := site.sql(query)) and len(rows) == 2 and rows, 60)
    assert done, f"the worker made no packets:\n{site.log('worker')[-3000:]}"
    (_, csv_id, csv_name, csv_size), (_, pdf_id, pdf_name, pdf_size) = done
    assert csv_size <= 1000 < pdf_size  # so that one is attached and the other linked
    assert {f"private/{csv_name}", f"private/{pdf_name}"} <= set(_keys(client, "private/packets/"))
    site.manage(
        "from petitions.models import Petition\n"
        "from deliverables.models import PacketExport\n"
        "from deliverables.services.delivery import delivery_create\n"
        "Petition.objects.filter(slug='apart').update(target_email='ceo@megacorp.example')\n"
        f"delivery_create(petition=Petition.objects.get(slug='apart'), method='email',"
        f" exports=list(PacketExport.objects.filter(pk__in=[{csv_id}, {pdf_id}])), compiles=[], by=None,"
        f" message='Here.')\n"
    )
    delivered = _wait(lambda: _delivery_message(site.mail_dir), 60)
    assert delivered, f"no delivery e-mail:\n{site.log('worker')[-3000:]}"
    attached = {part.get_filename(): part.get_payload(decode=True) for part in delivered.iter_attachments()}
    stored_csv = client.get_object(Bucket=BUCKET, Key=f"private/{csv_name}")["Body"].read()
    assert list(attached.values()) == [stored_csv]
    link = re.search(r"/petitions/delivered/[^\s]+/", delivered.get_body(("plain",)).get_content()).group(0)
    download = requests.get(f"http://127.0.0.1:{site.port}{link}")
    stored_pdf = client.get_object(Bucket=BUCKET, Key=f"private/{pdf_name}")["Body"].read()
    assert download.status_code == 200 and download.content == stored_pdf

    # Neither host kept a file of its own.
    for host in ("web", "worker"):
        local = [p for p in (root / f"host-{host}").rglob("*") if p.is_file() and p.parent.name != "static"]
        assert not [p for p in local if "media" in p.parts or "private" in p.parts], local


def _delivery_message(mail_dir: Path) -> EmailMessage | None:
    """The delivery e-mail, from the file-based backend's logs (messages separated by a line of 79 dashes)."""
    for log in mail_dir.glob("*.log"):
        for raw in log.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            message = BytesParser(policy=policy.default).parsebytes(raw.strip())
            if str(message["To"] or "") == "ceo@megacorp.example":
                return message
    return None
