"""A production-like Vigil on throwaway servers, for fault drills: PostgreSQL and Redis of its own (tests.throwaway),
gunicorn, a supervised Celery worker (scripts/supervise, as `make run` runs it) and beat, and a signing load whose
every answer is recorded.

The drills stop, kill and restart these servers and processes under load; nothing here touches the machine's own
PostgreSQL and Redis, or the rest of the suite's.
"""

import contextlib
import http.client
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
import redis

from tests.throwaway import ThrowawayPostgres, ThrowawayRedis, free_port

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
INTAKE_KEY = "vigil:1:signatures:intake:queue"  # the cache's KEY_PREFIX and version, then the intake's name
LOCK_KEY = "vigil:1:signatures:intake:lock"
OWN_ENVIRONMENT = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "VIGIL_")  # the suite's own; the stack sets its own


def _wait(predicate, *, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


class Stack:
    """The site and its servers. Start with `start()`, end with `stop()`."""

    def __init__(self, root: Path):
        self.root = root
        self.pg = ThrowawayPostgres(root / "pg")
        self.redis = ThrowawayRedis(root / "redis", appendonly=True, appendfsync="everysec")
        self.port = free_port()
        self.mail_dir = root / "mail"
        self.logs = root / "logs"
        self.processes: dict[str, subprocess.Popen] = {}
        self.database_url = ""
        # Settings for every process, and for one process by name ("web", "worker", "beat", "manage"): a test may run
        # the parts as if each were on a host of its own.
        self.extra_env: dict[str, str] = {}
        self.host_env: dict[str, dict[str, str]] = {}

    # --- lifecycle ------------------------------------------------------------------------------------------------

    def env(self) -> dict:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(OWN_ENVIRONMENT)},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": "drill-only-secret-key-0b7e5c1d9a8f4e2b6c3d1a0f9e8d7c6b5a4f3e2d",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VIGIL_IP_HASH_KEY": "drill-only-address-key",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis.port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis.port}/1",
            "DJANGO_HTTPS": "0",
            "DJANGO_STATIC_MANIFEST": "0",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DJANGO_EMAIL_FILE_PATH": str(self.mail_dir),
            "VIGIL_SIGN_RATE_PER_IP": "1000000/h",
            "VIGIL_SIGN_RATE_PER_EMAIL": "1000000/h",
            "VIGIL_SIGN_INTAKE_PERSISTENCE_CHECK_SECONDS": "1",
            "VIGIL_WORKER_NICENESS": "0",
            "VIGIL_SUPERVISE_GRACE": "10",
            "DJANGO_CONN_MAX_AGE": "600",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_MEDIA_ROOT": str(self.root / "media"),
            "VIGIL_PRIVATE_ROOT": str(self.root / "private"),
            **self.extra_env,
        }

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.pg.start()
        self.database_url = self.pg.create_database("vigil")
        self.redis.start()
        subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=self.env(), check=True)
        self._spawn("web", [str(Path(PY).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
                            "--workers", "2", "--worker-class", "gthread", "--threads", "4",
                            "--worker-connections", "8", "--log-level", "warning"])  # fmt: skip
        worker = [PY, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--without-gossip",
                  "--without-mingle", "--loglevel=WARNING"]  # fmt: skip
        self._spawn("worker", [PY, "scripts/supervise", "worker", "--", *worker])
        self._spawn("beat", [PY, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
                             "--schedule", str(self.root / "beat-schedule")])  # fmt: skip
        if not _wait(lambda: self._answers("/healthz"), timeout=60, interval=0.3):
            raise RuntimeError(f"The site did not answer within 60 s:\n{self.log('web')[-3000:]}")

    def _spawn(self, name: str, command: list[str]) -> None:
        with open(self.logs / f"{name}.log", "ab") as log:
            env = {**self.env(), **self.host_env.get(name, {})}
            self.processes[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.redis.stop() if self.redis.running() else None
        self.pg.stop(mode="immediate") if self.pg.running() else None

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- the site -------------------------------------------------------------------------------------------------

    def _answers(self, path: str) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", path)
            return connection.getresponse().status in (200, 503)
        except OSError:
            return False

    def get(self, path: str) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def manage(self, code: str) -> str:
        """Run Python with Django set up on the stack's settings; returns what it printed."""
        env = {**self.env(), **self.host_env.get("manage", {})}
        done = subprocess.run([PY, "-c", f"import django; django.setup()\n{code}"], cwd=ROOT, env=env,
                              check=True, capture_output=True, text=True)  # fmt: skip
        return done.stdout

    def open_petition(self, slug: str) -> int:
        return int(self.manage(
            "from petitions.models import Petition\n"
            "from petitions.services.editing import petition_create\n"
            "from petitions.services.lifecycle import petition_open\n"
            f"p = petition_create(petition=Petition(slug={slug!r}, title='Drill {slug}', target_name='Someone',"
            " ask='Hold.', body='<p>Drill.</p>', goal=1000), by=None)\n"
            "petition_open(petition=p)\nprint(p.pk)"
        ).strip().splitlines()[-1])  # fmt: skip

    def csrf_token(self, slug: str) -> str:
        _status, headers, _body = self.get(f"/petitions/{slug}/")
        match = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))
        if not match:
            raise RuntimeError(f"No CSRF cookie on the petition page: {headers}")
        return match.group(1)

    # --- its data ---------------------------------------------------------------------------------------------------

    def sql(self, query: str, params=()) -> list[tuple]:
        connection = psycopg2.connect(self.database_url, connect_timeout=3)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def redis_client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.redis.port, db=db, socket_timeout=3)

    def written(self, petition_id: int) -> list[str]:
        return [e for (e,) in self.sql("SELECT canonical_email FROM signatures_signature WHERE petition_id = %s",
                                       (petition_id,))]  # fmt: skip

    def mailed(self) -> dict[str, int]:
        """How many messages each address was sent (the file backend writes each message's headers)."""
        counts: dict[str, int] = {}
        for path in self.mail_dir.iterdir():
            for address in re.findall(r"^To: (\S+)$", path.read_text(errors="replace"), flags=re.M):
                counts[address.lower()] = counts.get(address.lower(), 0) + 1
        return counts


@dataclass
class Load:
    """Signers posting the form at about `rate` a second from `threads` threads; every answer is recorded."""

    stack: Stack
    slug: str
    prefix: str
    rate: float = 100
    threads: int = 8
    answers: list[tuple[float, int, str]] = field(default_factory=list)  # (time, status or 0, e-mail)

    def __post_init__(self):
        self._stop = threading.Event()
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._token = self.stack.csrf_token(self.slug)
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)]

    def __enter__(self) -> "Load":
        self.started = time.monotonic()
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)
        self.stopped = time.monotonic()

    def _run(self) -> None:
        interval = self.threads / self.rate
        while not self._stop.is_set():
            began = time.monotonic()
            email = f"{self.prefix}-{next(self._counter)}@example.org"
            status = self._post(email)
            with self._lock:
                self.answers.append((began, status, email))
            self._stop.wait(max(0.0, interval - (time.monotonic() - began)))

    def _post(self, email: str) -> int:
        form = {"first_name": "Drill", "last_name": "Signer", "email": email, "country": "GB", "region": "",
                "town": "", "postal_code": "", "website": "", "csrfmiddlewaretoken": self._token}  # fmt: skip
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=15)
            connection.request("POST", f"/petitions/{self.slug}/sign/", body=urlencode(form),
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "Cookie": f"csrftoken={self._token}"})  # fmt: skip
            response = connection.getresponse()
            response.read()
            return response.status
        except OSError:
            return 0

    def accepted(self) -> set[str]:
        return {email for _t, status, email in self.answers if status == 303}

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _t, status, _email in self.answers:
            counts[status] = counts.get(status, 0) + 1
        return counts


@dataclass
class Figures:
    """What a drill reports: requests, accepted, errors, and how long the site took to catch up after the fault."""

    drill: str
    requests: int
    accepted: int
    statuses: dict
    lost: int
    duplicates: int
    mail_missing: int
    mail_twice: int
    rows_recovery_seconds: float | None
    mail_recovery_seconds: float | None
    notes: str = ""

    def record(self) -> None:
        out = ROOT / "var" / "test" / "drills.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "a") as handle:
            handle.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **self.__dict__}) + "\n")


def catch_up(stack: Stack, load: Load, petition_id: int, *, fault_ended: float, bound: float) -> tuple:
    """While the load goes on: seconds from the fault's end until every signature accepted so far is written, and
    until each of them has its confirmation (None past `bound`). Call it right after the fault ends."""
    accepted = load.accepted()

    def rows_done() -> bool:
        try:
            return accepted <= set(stack.written(petition_id))
        except psycopg2.Error:
            return False

    def mail_done() -> bool:
        mailed = stack.mailed()
        return all(mailed.get(email, 0) >= 1 for email in accepted)

    deadline = fault_ended + bound
    rows_at = _wait(lambda: rows_done() and time.monotonic(), timeout=max(0.0, deadline - time.monotonic()))
    mail_at = _wait(lambda: mail_done() and time.monotonic(), timeout=max(0.0, deadline - time.monotonic()))
    time.sleep(max(0.0, fault_ended + 2 - time.monotonic()))  # signing goes on for 2 s after the fault at least
    return (
        None if rows_at is None else round(rows_at - fault_ended, 1),
        None if mail_at is None else round(mail_at - fault_ended, 1),
    )


def settle(stack: Stack, load: Load, petition_id: int, *, recovery: tuple, drill: str, bound: float,
           notes: str = "") -> Figures:  # fmt: skip
    """After the load: wait (at most `bound` seconds) until every accepted signature is written and its
    confirmation sent; then count what was lost, duplicated or mailed twice. `recovery` is catch_up's answer."""
    accepted = load.accepted()
    _wait(lambda: accepted <= set(stack.written(petition_id)), timeout=bound)
    _wait(lambda: all(stack.mailed().get(email, 0) >= 1 for email in accepted), timeout=bound)
    time.sleep(1.0)  # anything sent twice would be on its way by now
    written = stack.written(petition_id)
    mailed = stack.mailed()
    figures = Figures(
        drill=drill,
        requests=len(load.answers),
        accepted=len(accepted),
        statuses=load.statuses(),
        lost=len(accepted - set(written)),
        duplicates=len(written) - len(set(written)),
        mail_missing=sum(1 for email in accepted if mailed.get(email, 0) == 0),
        mail_twice=sum(1 for email in accepted if mailed.get(email, 0) > 1),
        rows_recovery_seconds=recovery[0],
        mail_recovery_seconds=recovery[1],
        notes=notes,
    )
    figures.record()
    return figures
