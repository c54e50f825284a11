"""A worker killed with SIGKILL in the middle of an invalidation job: once a worker is back and beat's sweep has
queued the job again, every matching signature is set aside, none that does not match, and the job's count says
exactly how many; the reversal then puts every one back.

The worker runs on a broker database of its own, so the session's shared worker never takes its tasks; the job is
started and reversed from another process (as the organiser's request would), and the test does what beat does:
it runs the sweep that queues a job whose worker was lost.
"""

import os
import subprocess
import sys
import uuid

import pytest
import redis
from django.conf import settings
from kombu import Connection

from demo.campaign import demo_signatures_add
from signatures.models import InvalidationState, Signature, SignatureInvalidation, SignatureState
from signatures.services import review
from signatures.services.counts import signature_counts_flush
from signatures.tasks import signature_invalidations_sweep_task
from tests.conftest import ROOT, _database_url
from tests.deliverables.factories import organiser_of
from tests.deliverables.test_worker_kill import _kill
from tests.petitions.factories import OpenPetitionFactory
from tests.utils import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

SIGNERS, FARM = 6_000, 4_000


def _broker_url() -> str:
    base, _, db = settings.CELERY_BROKER_URL.rpartition("/")
    return f"{base}/{11 if db == '10' else 10}"


def _env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": _broker_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        "VIGIL_INVALIDATION_BATCH": "50",
        "VIGIL_INVALIDATION_STALE_SECONDS": "2",
    }


def _worker(log_path):
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
               f"--hostname=invalidation-kill-{uuid.uuid4().hex[:8]}@%h"]  # fmt: skip
    log = open(log_path, "ab")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip


MOVE = r"""
import sys, django
django.setup()
from accounts.models import User
from signatures.models import SignatureInvalidation
from signatures.services import review
job = SignatureInvalidation.objects.get(pk=int(sys.argv[2]))
getattr(review, sys.argv[1])(job=job, by=User.objects.get(pk=int(sys.argv[3])))
"""


def _move(name: str, job, user) -> None:
    command = [sys.executable, "-c", MOVE, name, str(job.pk), str(user.pk)]
    subprocess.run(command, cwd=ROOT, env=_env(), check=True, capture_output=True)


def _set_aside(job) -> int:
    return SignatureInvalidation.objects.get(pk=job.pk).signature_count


def test_a_worker_killed_mid_job_leaves_exactly_the_matching_signatures_set_aside_and_the_reversal_restores_them(
    tmp_path,
):
    petition = OpenPetitionFactory()
    demo_signatures_add(petition=petition, count=SIGNERS)
    ids = list(Signature.objects.filter(petition=petition).order_by("pk").values_list("pk", flat=True))
    Signature.objects.filter(pk__in=ids[::3] + ids[1::3]).update(email_domain="farm.example")  # two in three
    farm = set(Signature.objects.filter(petition=petition, email_domain="farm.example").values_list("pk", flat=True))
    assert len(farm) == FARM
    organiser = organiser_of(petition)
    job = review.invalidation_count(
        petition=petition, by=organiser, reason="one farm", criteria=review.criteria_clean(domain="farm.example")
    )
    assert job.matched == FARM
    log_path = tmp_path / "worker.log"
    redis.Redis.from_url(_broker_url()).flushdb()

    first = _worker(log_path)
    try:
        _move("invalidation_start", job, organiser)
        assert wait_for(lambda: _set_aside(job) >= 400, timeout=90, interval=0.01), log_path.read_text()[-5000:]
    finally:
        _kill(first)
    at_kill = _set_aside(job)
    assert at_kill < FARM, "the kill came too late to test anything"
    assert SignatureInvalidation.objects.get(pk=job.pk).state == InvalidationState.RUNNING

    second = _worker(log_path)
    try:
        with Connection(_broker_url()) as connection:

            def beat(wanted: str) -> bool:  # what beat does every minute: the sweep that queues a lost job again
                signature_invalidations_sweep_task.apply_async(connection=connection)
                return SignatureInvalidation.objects.get(pk=job.pk).state == wanted

            assert wait_for(lambda: beat(InvalidationState.DONE), timeout=120, interval=1.0), log_path.read_text()[
                -5000:
            ]
            job.refresh_from_db()
            assert job.signature_count == FARM
            states = dict(Signature.objects.filter(petition=petition).values_list("pk", "state"))
            assert {pk for pk, state in states.items() if state == SignatureState.INVALIDATED} == farm
            assert set(Signature.objects.filter(invalidation=job).values_list("pk", flat=True)) == farm
            signature_counts_flush()
            petition.tally.refresh_from_db()
            assert petition.tally.confirmed == SIGNERS - FARM

            _move("invalidation_reverse", job, organiser)
            assert wait_for(lambda: beat(InvalidationState.REVERSED), timeout=120, interval=1.0), log_path.read_text()[
                -5000:
            ]
    finally:
        _kill(second)
    job.refresh_from_db()
    assert job.restored_count == FARM
    assert not Signature.objects.filter(petition=petition).exclude(state=SignatureState.CONFIRMED).exists()
    signature_counts_flush()
    petition.tally.refresh_from_db()
    assert petition.tally.confirmed == SIGNERS
