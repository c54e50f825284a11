"""Throwaway servers (PostgreSQL, Redis, PgBouncer, an S3-compatible store), each in a directory of its own, on free
ports of 127.0.0.1.

Uses: fault drills, which stop, kill and restart the servers a site is using; and `make test` on a machine where
nothing answers at the configured addresses (scripts/test starts them through the command line below); the pooler
and object-storage tests.

    with ThrowawayPostgres(tmp_path / "pg") as pg, ThrowawayRedis(tmp_path / "redis") as rd:
        url = pg.create_database("vigil")
        ...
        pg.stop(mode="immediate")   # the database vanishes under the site
        rd.kill()                   # Redis dies; start() replays its append-only file

    python -m tests.throwaway up --dir var/test/services --postgres --redis   # prints `export` lines
    python -m tests.throwaway down --dir var/test/services

Everything a server writes (data, logs, sockets, append-only files) stays under its directory. The servers already
running on this machine (5432, 6379) are never touched. Only the standard library, psycopg2 and redis are used (and
boto3, which moto brings, for ThrowawayS3).
"""

import argparse
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import redis
from psycopg2 import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

HOST = "127.0.0.1"
PACKAGES = {"postgresql": "PostgreSQL (initdb, pg_ctl)", "redis-server": "redis-server"}
# PostgreSQL refuses to run as root; as root, its commands run as this system user (the Debian package creates it).
POSTGRES_USER = "postgres"
# A Unix socket's path must fit in sockaddr_un.sun_path (108 bytes with its terminating NUL).
SOCKET_PATH_MAX = 107


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def postgres_binaries() -> Path:
    """The directory holding initdb, pg_ctl and postgres: the newest /usr/lib/postgresql/*/bin, else the PATH's."""
    installed = [path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "pg_ctl").exists()]
    if installed:
        return max(installed, key=lambda path: _version_key(path.parent.name))
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and shutil.which("initdb"):
        return Path(pg_ctl).parent
    raise RuntimeError(_missing_message(["postgresql"]))


def _redis_server() -> str | None:
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def _missing_packages() -> list[str]:
    missing = []
    try:
        postgres_binaries()
    except RuntimeError:
        missing.append("postgresql")
    if not _redis_server():
        missing.append("redis-server")
    return missing


def _missing_message(missing: list[str]) -> str:
    return (
        f"Throwaway servers need {' and '.join(PACKAGES[name] for name in missing)}: "
        f"install them with `sudo apt-get install --no-install-recommends {' '.join(missing)}`."
    )


def ensure_installed() -> None:
    """Install PostgreSQL and redis-server with apt-get when they are missing and we are root; otherwise say how."""
    missing = _missing_packages()
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(_missing_message(missing))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        # A fresh image's package lists are often stale or absent: refresh them once and try again.
        subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=True)
    if still_missing := _missing_packages():
        raise RuntimeError(_missing_message(still_missing))


def _exited(pid: int) -> bool:
    """Has the process exited? A zombie has: only its parent's wait() is missing, and it may not be ours to reap."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return Path("/proc/self").exists()  # it went between the two looks; without /proc, assume it still runs
    return state in ("Z", "X")


def _wait_exited(pid: int, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not _exited(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} is missing)"


def _without_pg_environment() -> dict[str, str]:
    # PGPORT, PGDATA and friends would otherwise override what these servers are told.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


class _AsServerUser:
    """PostgreSQL and PgBouncer refuse to run as root: as root, they run as the "postgres" system user, which must
    own `root` (and `log`) and be able to reach them."""

    root: Path
    log: Path

    def _server_user(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            raise RuntimeError(
                f"PostgreSQL and PgBouncer refuse to run as root and there is no {POSTGRES_USER!r} user to run them: "
                "install the postgresql package, which creates it."
            ) from None

    # As root, initdb, pg_ctl and postgres run as the unprivileged system user, which owns root. That user must be able
    # to reach root: pytest's temporary directories are 0700 and owned by root, so each directory above root that the
    # user cannot search is given the one search (x) bit it lacks. Search without read lets the user open a path it
    # already knows but not list anything, and keeps every file under root, where the caller's clean-up finds it.
    # (Putting the data in a world-traversable place of its own would scatter it outside root and outlive clean-up.)
    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        user = self._server_user()
        if user is None:
            return
        os.chown(self.root, user.pw_uid, user.pw_gid)
        os.chown(self.log, user.pw_uid, user.pw_gid)
        groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
        for parent in self.root.parents:
            info = parent.stat()
            if info.st_uid == user.pw_uid:
                needed = stat.S_IXUSR
            elif info.st_gid in groups:
                needed = stat.S_IXGRP
            else:
                needed = stat.S_IXOTH
            if not info.st_mode & needed:
                parent.chmod(stat.S_IMODE(info.st_mode) | needed)


class ThrowawayPostgres(_AsServerUser):
    """A PostgreSQL cluster in root/"data" (trust auth, superuser "postgres"), logging to root/"postgres.log"."""

    def __init__(self, root: Path, *, port: int | None = None):
        self.root = Path(root).absolute()
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = port or free_port()
        self.url = f"postgres://postgres@{HOST}:{self.port}/postgres"

    def __enter__(self) -> "ThrowawayPostgres":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop(mode="immediate")

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess:
        """Run a PostgreSQL command (as the server user when we are root); its output goes to the log too."""
        user = self._server_user()
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        result = subprocess.run(
            [str(postgres_binaries() / args[0]), *args[1:]],
            cwd=self.root,  # entered before the user changes; a cwd the user cannot read makes pg_ctl complain
            env=_without_pg_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            **as_user,
        )
        with self.log.open("a") as log:
            log.write(result.stdout)
        return result

    def _initdb(self) -> None:
        result = self._run(
            "initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--no-sync",
            "--encoding=UTF8", "--locale=C.UTF-8", timeout=120,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed in {self.data}:\n{_tail(self.log)}")
        # Without a socket PostgreSQL still answers on TCP, which is all these URLs use; a path too long for one
        # (deep temporary directories) would otherwise stop it from starting.
        socket_dir = str(self.root) if len(os.fsencode(self.root / ".s.PGSQL.65535.lock")) <= SOCKET_PATH_MAX else ""
        quoted_socket_dir = f'"{socket_dir}"'.replace("'", "''") if socket_dir else ""
        settings = {
            # Throwaway data: durability only slows the tests down.
            "fsync": "off",
            "full_page_writes": "off",
            "listen_addresses": f"'{HOST}'",
            "unix_socket_directories": f"'{quoted_socket_dir}'",
            "max_connections": "200",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# Throwaway server (tests/throwaway.py)\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        pid = self._postmaster_pid()
        return pid is not None and not _exited(pid)

    def start(self, *, timeout: float = 30) -> None:
        """initdb on the first start, then start the server; returns when it accepts connections."""
        if self.running():
            return
        deadline = time.monotonic() + timeout
        self._prepare_root()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        started = self._run(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-o", f"-p {self.port}",
            "-w", "-t", str(max(1, round(deadline - time.monotonic()))), timeout=timeout + 10,
        )  # fmt: skip
        while started.returncode == 0 and time.monotonic() < deadline:
            try:
                psycopg2.connect(self.url, connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.05)
        failure = "pg_ctl could not start it" if started.returncode else f"it did not answer within {timeout:g} s"
        self.stop(mode="immediate")  # a server still starting up would otherwise outlive the failure
        raise RuntimeError(
            f"PostgreSQL on port {self.port}: {failure}. The last lines of {self.log}:\n{_tail(self.log)}"
        )

    def stop(self, *, mode: str = "fast") -> None:
        """pg_ctl stop -m <mode> ("smart", "fast" or "immediate"); returns when the server's process is gone."""
        pid = self._postmaster_pid()
        if pid is None or _exited(pid):
            return
        result = self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60", timeout=70)
        if result.returncode != 0 and not self.running():
            return  # it stopped on its own between our look and pg_ctl's
        if result.returncode != 0 or not _wait_exited(pid, timeout=10):
            raise RuntimeError(f"PostgreSQL (pid {pid}) did not stop:\n{_tail(self.log)}")

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database (a copy of template when given) and return its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        connection = psycopg2.connect(self.url, connect_timeout=5)
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()
        return f"postgres://postgres@{HOST}:{self.port}/{name}"


PGBOUNCER = "/usr/sbin/pgbouncer"


def _terminate(process: subprocess.Popen | None) -> None:
    """Stop a server we started and wait for it: SIGTERM, then SIGKILL after 10 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def ensure_pgbouncer() -> str:
    """The pgbouncer binary (Debian's package, installed with apt-get when missing and we are root)."""
    binary = shutil.which("pgbouncer") or PGBOUNCER
    if Path(binary).exists():
        return binary
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("The connection-pooler test needs PgBouncer: `sudo apt-get install pgbouncer`.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "pgbouncer"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=True)
    return PGBOUNCER


class ThrowawayPgBouncer(_AsServerUser):
    """PgBouncer in front of a PostgreSQL server, in transaction mode: each transaction may run on a different
    server connection, and a server connection serves other clients between two transactions of one client. With
    `pool_size=1` every client shares one server connection, so anything a client leaves set on it (a session-level
    SET, a lock, a cursor) is seen by the next one."""

    def __init__(self, root: Path, *, server_port: int, port: int | None = None, pool_size: int = 1):
        self.root = Path(root).absolute()
        self.log = self.root / "pgbouncer.log"
        self.server_port = server_port
        self.port = port or free_port()
        self.pool_size = pool_size
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "ThrowawayPgBouncer":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self, *, timeout: float = 15) -> None:
        binary = ensure_pgbouncer()
        self._prepare_root()
        (self.root / "userlist.txt").write_text(f'"{POSTGRES_USER}" ""\n')
        config = self.root / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={HOST} port={self.server_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = {HOST}\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.root / 'userlist.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {self.pool_size}\nmax_client_conn = 200\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.log}\nadmin_users = {POSTGRES_USER}\n"
        )
        user = self._server_user()
        if user:
            for path in (config, self.root / "userlist.txt"):
                os.chown(path, user.pw_uid, user.pw_gid)
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        self.process = subprocess.Popen(
            [binary, str(config)], cwd=self.root, env=_without_pg_environment(), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **as_user,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                psycopg2.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"PgBouncer on port {self.port} did not start. The last lines of {self.log}:\n{_tail(self.log)}"
        )

    def url(self, database: str) -> str:
        return f"postgres://{POSTGRES_USER}@{HOST}:{self.port}/{database}"

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None


class ThrowawayS3:
    """moto's S3-compatible server in a process of its own, on a free port, with one empty bucket."""

    def __init__(self, root: Path, *, bucket: str, port: int | None = None):
        self.root = Path(root).absolute()
        self.bucket = bucket
        self.port = port or free_port()
        self.endpoint = f"http://{HOST}:{self.port}"
        self.keys = {"aws_access_key_id": "throwaway-key", "aws_secret_access_key": "throwaway-secret",
                     "region_name": "us-east-1"}  # fmt: skip
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "ThrowawayS3":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def client(self):
        import boto3  # a development dependency (moto brings it): only the object-storage tests need it

        return boto3.client("s3", endpoint_url=self.endpoint, **self.keys)

    def settings(self, prefix: str) -> dict[str, str]:
        """The environment that points Vigil's storages at this server (config/settings.py, VIGIL_S3_*)."""
        return {
            f"{prefix}BUCKET": self.bucket,
            f"{prefix}ENDPOINT_URL": self.endpoint,
            f"{prefix}REGION": self.keys["region_name"],
            f"{prefix}ACCESS_KEY_ID": self.keys["aws_access_key_id"],
            f"{prefix}SECRET_ACCESS_KEY": self.keys["aws_secret_access_key"],
        }

    def start(self, *, timeout: float = 30) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "moto.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)], stdout=log, stderr=log
            )
        client = self.client()
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.create_bucket(Bucket=self.bucket)
                return
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"moto's S3 server did not start:\n{_tail(self.root / 'moto.log')}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None


class ThrowawayRedis:
    """A redis-server whose files live in root; restarting after kill() replays its append-only file, if it has one."""

    def __init__(self, root: Path, *, port: int | None = None, appendonly: bool = True, appendfsync: str = "everysec"):
        self.root = Path(root).absolute()
        self.log = self.root / "redis.log"
        self.pidfile = self.root / "redis.pid"
        self.port = port or free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "ThrowawayRedis":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (also one started by another process in this directory)."""
        if self._process is not None:
            return None if self._process.poll() is not None else self._process.pid
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        # A stale pidfile (after a kill) may name a process id that something else has since been given.
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            command = b"redis-server"
        return pid if not _exited(pid) and b"redis-server" in command else None

    def running(self) -> bool:
        return self.pid is not None

    def _client(self) -> redis.Redis:
        # No retries: a refused connection is an answer here (not started yet, or gone after SHUTDOWN), and redis-py's
        # default retries with backoff would add seconds to every start and stop.
        return redis.Redis(
            host=HOST, port=self.port, socket_connect_timeout=1, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )

    def start(self, *, timeout: float = 15) -> None:
        """Start redis-server in the foreground of its own session; returns when PING answers."""
        if self.running():
            return
        server = _redis_server()
        if not server:
            raise RuntimeError(_missing_message(["redis-server"]))
        self.root.mkdir(parents=True, exist_ok=True)
        command = [
            server,
            "--bind", HOST, "--port", str(self.port), "--dir", str(self.root),
            "--logfile", str(self.log), "--pidfile", str(self.pidfile), "--daemonize", "no",
            "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", self.appendfsync,
            "--maxmemory-policy", "noeviction", "--save", "",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            # A session of its own: Ctrl-C in the terminal does not reach it, and it outlives a command that starts it
            # for others (`up` below). Its output goes to the log, never to our stdout, which a shell may be reading.
            self._process = subprocess.Popen(
                command, cwd=self.root, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        client = self._client()
        try:
            while self._process.poll() is None and time.monotonic() < deadline:
                try:
                    if client.ping():  # answers LOADING (an error) while it replays the append-only file
                        return
                except redis.RedisError:
                    time.sleep(0.02)
        finally:
            client.close()
        exited = self._process.poll() is not None
        self.kill()
        raise RuntimeError(
            f"redis-server on port {self.port}: {'it exited' if exited else f'no answer within {timeout:g} s'}. "
            f"The last lines of {self.log}:\n{_tail(self.log)}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save; returns when the process is gone."""
        pid = self.pid
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        self._wait_gone(pid, timeout=10)

    def stop(self) -> None:
        """SHUTDOWN NOSAVE (SIGTERM if it does not answer); returns when the process is gone."""
        pid = self.pid
        if pid is None:
            return
        client = self._client()
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the usual answer: it closed the connection on its way out
        except redis.RedisError:
            os.kill(pid, signal.SIGTERM)
        finally:
            client.close()
        try:
            self._wait_gone(pid, timeout=10)
        except RuntimeError:
            self.kill()

    def _wait_gone(self, pid: int, *, timeout: float) -> None:
        if self._process is not None and self._process.pid == pid:
            try:
                self._process.wait(timeout=timeout)
                return
            except subprocess.TimeoutExpired:
                pass
        elif _wait_exited(pid, timeout=timeout):
            return
        raise RuntimeError(f"redis-server (pid {pid}) did not exit within {timeout:g} s")


# The command line, for scripts/test: servers that outlive the command that starts them, and a state file to stop
# them by. Each `up` starts from empty directories, so a run never sees the data of the one before.
STATE = "state.json"


def up(directory: Path, *, postgres: bool, redis_server: bool, database: str) -> dict[str, str]:
    """Start the servers asked for in directory; return the environment that points the suite at them."""
    ensure_installed()
    down(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("postgres", "redis"):
        shutil.rmtree(directory / name, ignore_errors=True)
    state: dict[str, dict] = {}
    environment: dict[str, str] = {}
    try:
        if postgres:
            pg = ThrowawayPostgres(directory / "postgres")
            state["postgres"] = {"port": pg.port}
            pg.start()
            environment["DATABASE_URL"] = pg.create_database(database) if database != "postgres" else pg.url
        if redis_server:
            # The suite empties its Redis databases itself: nothing to keep between restarts.
            rd = ThrowawayRedis(directory / "redis", appendonly=False)
            state["redis"] = {"port": rd.port}
            rd.start()
            base = rd.url.rsplit("/", 1)[0]
            environment["REDIS_URL"] = f"{base}/15"
            environment["CELERY_BROKER_URL"] = f"{base}/14"
    finally:
        (directory / STATE).write_text(json.dumps(state))
    return environment


def down(directory: Path) -> None:
    """Stop what `up` started in directory; the data and logs stay until the next `up`."""
    try:
        state = json.loads((directory / STATE).read_text())
    except (OSError, ValueError):
        return
    if "postgres" in state:
        ThrowawayPostgres(directory / "postgres", port=state["postgres"]["port"]).stop(mode="immediate")
    if "redis" in state:
        ThrowawayRedis(directory / "redis", port=state["redis"]["port"]).stop()
    (directory / STATE).unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.throwaway", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start throwaway servers and print `export` lines for a shell to eval")
    start.add_argument("--dir", type=Path, required=True)
    start.add_argument("--postgres", action="store_true")
    start.add_argument("--redis", action="store_true")
    start.add_argument("--database", default="vigil", help="the database to create in PostgreSQL (default: vigil)")
    stop = commands.add_parser("down", help="stop the servers `up` started")
    stop.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "down":
            down(args.dir)
            return 0
        environment = up(args.dir, postgres=args.postgres, redis_server=args.redis, database=args.database)
    except (RuntimeError, OSError, subprocess.SubprocessError, psycopg2.Error, redis.RedisError) as exc:
        if args.command == "up":
            down(args.dir)
        sys.stderr.write(f"throwaway {args.command}: {exc}\n")
        return 1
    for name, value in environment.items():
        sys.stdout.write(f"export {name}={shlex.quote(value)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
