"""Private files (packets, compiled letters, proof documents): under VIGIL_PRIVATE_ROOT, never under MEDIA_ROOT.

A file is written under a hidden temporary name in its final directory and renamed into place only once it is
complete and flushed to disk (`os.replace` is atomic within one file system), so nobody ever sees half a file: a
worker killed mid-write leaves only a `.name.<random>.part` file, which the next attempt (or the hourly sweep)
removes. Names stored in the database are relative to VIGIL_PRIVATE_ROOT and checked to stay inside it.
The writer keeps the SHA-256 of what it wrote: packets and compiled letters record it as their checksum.
"""

import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

PART_SUFFIX = ".part"


def private_root() -> Path:
    return Path(settings.VIGIL_PRIVATE_ROOT)


def private_path(name: str) -> Path:
    """The absolute path of a stored name; ValueError if the name would leave the private root."""
    root = private_root().resolve()
    path = (root / name).resolve()
    if root not in path.parents:
        raise ValueError(f"{name!r} is not inside the private root")
    return path


class AtomicFile:
    """A binary file open for writing under a temporary name; `commit()` renames it to its final name.

    It hashes what passes through `write()` on the way (`sha256()`), so a file's checksum costs no second read.
    """

    def __init__(self, name: str):
        self.name = name
        self.final = private_path(name)
        self.final.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        self.temp = self.final.with_name(f".{self.final.name}.{secrets.token_hex(6)}{PART_SUFFIX}")
        self.handle = open(self.temp, "xb")  # noqa: SIM115 (closed by commit or discard)
        self.size = 0
        self._digest = hashlib.sha256()

    def write(self, data) -> int:
        written = self.handle.write(data)
        self._digest.update(data)
        self.size += written
        return written

    def sha256(self) -> str:
        """The hex SHA-256 of everything written so far."""
        return self._digest.hexdigest()

    def commit(self) -> int:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.chmod(self.temp, 0o640)
        os.replace(self.temp, self.final)
        return self.size

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


@contextlib.contextmanager
def atomic_private_file(name: str) -> Iterator[AtomicFile]:
    """Write name's content inside the block; it appears under name only if the block completes."""
    target = AtomicFile(name)
    try:
        yield target
    except BaseException:
        target.discard()
        raise
    if not target.handle.closed:
        target.commit()


def private_parts_remove(name: str) -> int:
    """Remove leftover temporary files of name (from an attempt that died)."""
    final = private_path(name)
    removed = 0
    if final.parent.exists():
        for part in final.parent.glob(f".{final.name}.*{PART_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
                removed += 1
    return removed


def private_parts_sweep(*, older_than_seconds: float) -> int:
    """Remove temporary files older than the given age anywhere under the private root."""
    root = private_root()
    if not root.exists():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for part in root.rglob(f".*{PART_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if part.stat().st_mtime < cutoff:
                part.unlink()
                removed += 1
    return removed


def private_delete(name: str) -> None:
    if name:
        with contextlib.suppress(FileNotFoundError, ValueError):
            private_path(name).unlink()


def private_exists(name: str) -> bool:
    try:
        return bool(name) and private_path(name).is_file()
    except ValueError:
        return False


def private_write_bytes(name: str, content: bytes) -> None:
    with atomic_private_file(name) as target:
        target.write(content)
