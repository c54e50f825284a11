"""A worker killed with SIGKILL in the middle of a mailing: once a worker is back, every signer has been sent the
update, each by one outbox message, and the only message that can reach a signer twice is the one being handed
over at the instant of the kill, with the same Message-ID both times (so that mail servers and clients drop it).

The worker runs with production's bulk-mail settings (the low-priority thread) on a broker database of its own, so
the session's shared worker never takes its tasks. After the kill the test does what beat does: it runs the outbox
pump and the mailings sweep, which queues again the mailing whose worker was lost.
"""

import email
import os
import subprocess
import sys
import uuid

import pytest
import redis
from django.conf import settings
from kombu import Connection

from core.models import OutboundEmail
from core.tasks import outbound_email_pump_task
from demo.campaign import demo_signatures_add
from petitions.models import MailingState, UpdateMailing
from petitions.services.mailings import update_mailing_request
from petitions.services.updates import petition_update_create, petition_update_publish
from petitions.tasks import update_mailings_sweep_task
from signatures.models import Signature
from tests.conftest import ROOT, _database_url
from tests.deliverables.factories import organiser_of
from tests.deliverables.test_worker_kill import _kill
from tests.petitions.factories import OpenPetitionFactory
from tests.utils import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

SIGNERS = 4_000


def _broker_url() -> str:
    base, _, db = settings.CELERY_BROKER_URL.rpartition("/")
    return f"{base}/{11 if db == '10' else 10}"


def _env(mail_dir) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": _broker_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        "VIGIL_OUTBOX_BULK_NICE": "19",
        "VIGIL_OUTBOX_CLAIM_SECONDS": "4",
        "VIGIL_UPDATE_MAILING_BATCH": "250",
        "VIGIL_UPDATE_MAILING_QUEUE_RATE": "2500",
        "VIGIL_UPDATE_MAILING_STALE_SECONDS": "3",
    }


def _worker(mail_dir, log_path):
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
               f"--hostname=mailing-kill-{uuid.uuid4().hex[:8]}@%h"]  # fmt: skip
    log = open(log_path, "ab")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=ROOT, env=_env(mail_dir), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip


APPROVE = r"""
import sys, django
django.setup()
from accounts.models import User
from petitions.models import UpdateMailing
from petitions.services.mailings import update_mailing_approve
update_mailing_approve(mailing=UpdateMailing.objects.get(pk=int(sys.argv[1])), by=User.objects.get(pk=int(sys.argv[2])))
"""


def _delivered(mail_dir) -> list[str]:
    """The Message-IDs of every message the file backend wrote (one file per connection, messages between rules)."""
    found = []
    for path in mail_dir.iterdir():
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk.lstrip())["Message-ID"])
    return found


def _sent(mailing) -> int:
    return OutboundEmail.objects.filter(mailing=mailing.key, sent_at__isnull=False).count()


def test_a_worker_killed_mid_mailing_leaves_every_signer_mailed_once_after_a_restart(tmp_path):
    petition = OpenPetitionFactory()
    demo_signatures_add(petition=petition, count=SIGNERS)
    Signature.objects.filter(petition=petition).update(contact_ok=True)
    writer, approver = organiser_of(petition), organiser_of(petition)
    update = petition_update_create(petition=petition, by=writer, title="News", body="<p>We met them.</p>")
    petition_update_publish(update=update)
    mailing = update_mailing_request(update=update, by=writer)
    mail_dir, log_path = tmp_path / "mail", tmp_path / "worker.log"
    mail_dir.mkdir()
    redis.Redis.from_url(_broker_url()).flushdb()

    first = _worker(mail_dir, log_path)
    try:
        approve = [sys.executable, "-c", APPROVE, str(mailing.pk), str(approver.pk)]
        subprocess.run(approve, cwd=ROOT, env=_env(mail_dir), check=True, capture_output=True)
        assert wait_for(lambda: _sent(mailing) >= 300, timeout=90, interval=0.01), log_path.read_text()[-5000:]
    finally:
        _kill(first)
    mailing.refresh_from_db()
    sent_at_kill = _sent(mailing)
    assert sent_at_kill < SIGNERS, "the kill came too late to test anything"

    second = _worker(mail_dir, log_path)
    try:
        with Connection(_broker_url()) as connection:

            def beat() -> bool:  # what beat does every second: the pump, and the sweep that requeues
                outbound_email_pump_task.apply_async(connection=connection)
                update_mailings_sweep_task.apply_async(connection=connection)
                current = UpdateMailing.objects.get(pk=mailing.pk)
                return current.state == MailingState.QUEUED and _sent(current) == SIGNERS

            assert wait_for(beat, timeout=120, interval=1.0), log_path.read_text()[-5000:]
    finally:
        _kill(second)

    mailing.refresh_from_db()
    assert mailing.queued == SIGNERS and mailing.queued_at is not None
    rows = OutboundEmail.objects.filter(mailing=mailing.key)
    assert rows.count() == SIGNERS and not rows.filter(sent_at__isnull=True).exists()
    signers = {row["render_context"]["signature_id"] for row in rows.values("render_context")}
    assert signers == set(Signature.objects.filter(petition=petition).values_list("pk", flat=True))
    expected = set(rows.values_list("message_id", flat=True))
    delivered = _delivered(mail_dir)
    assert set(delivered) == expected  # every signer's message reached the mail server
    twice = len(delivered) - len(set(delivered))
    assert twice <= 1, f"{twice} messages handed over twice (at most the one in flight at the kill may be)"
