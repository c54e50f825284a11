"""Private files (packets, compiled letters, proof documents, delivered copies): in the private storage
(core.storage: VIGIL_PRIVATE_ROOT, or the object store's private prefix), never among public media.

Nobody ever sees half a file:
- In a local folder, a file is written under a hidden temporary name in its final directory and renamed into place
  once complete and flushed to disk (`os.replace` is atomic within one file system); a worker killed mid-write
  leaves only a `.name.<random>.part` file, which the next attempt (or the hourly sweep) removes.
- In an object store, it is written to a local temporary file and uploaded once complete; an object exists only
  once its upload has completed, and an upload cut short leaves no object (the bucket's lifecycle rule should abort
  incomplete multipart uploads after a day).
Names stored in the database are relative to the private storage and checked to stay inside it. The writer keeps
the SHA-256 of what it wrote: packets and compiled letters record it as their checksum.
"""

import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings
from django.core.files import File

from core.storage import private_is_local, private_storage

PART_SUFFIX = ".part"


def private_root() -> Path:
    return Path(settings.VIGIL_PRIVATE_ROOT)


def _checked(name: str) -> str:
    """A stored name as given; ValueError if it would leave the private storage."""
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or ".." in parts or "\\" in name:
        raise ValueError(f"{name!r} is not inside the private storage")
    return name


def private_path(name: str) -> Path:
    """The absolute path of a stored name in the local private folder; ValueError if the name would leave it."""
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
        self.name = _checked(name)
        self.size = 0
        self._digest = hashlib.sha256()
        self.local = private_is_local()
        if self.local:
            self.final = private_path(name)
            self.final.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            self.temp = self.final.with_name(f".{self.final.name}.{secrets.token_hex(6)}{PART_SUFFIX}")
            self.handle = open(self.temp, "xb")  # noqa: SIM115 (closed by commit or discard)
        else:
            self.handle = tempfile.TemporaryFile(prefix="vigil-private-")  # noqa: SIM115 (closed by commit or discard)

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
        if not self.local:
            self.handle.seek(0)
            with self.handle:
                stored = private_storage().save(self.name, File(self.handle, name=self.name))
            if stored != self.name:
                raise RuntimeError(f"The private storage stored {self.name!r} as {stored!r}: it must overwrite")
            return self.size
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.chmod(self.temp, 0o640)
        os.replace(self.temp, self.final)
        return self.size

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
        if self.local:
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
    """Remove leftover temporary files of name (from an attempt that died; an object store keeps none)."""
    if not private_is_local():
        return 0
    final = private_path(name)
    removed = 0
    if final.parent.exists():
        for part in final.parent.glob(f".{final.name}.*{PART_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
                removed += 1
    return removed


def private_parts_sweep(*, older_than_seconds: float) -> int:
    """Remove temporary files older than the given age anywhere under the private root (none in an object store)."""
    if not private_is_local():
        return 0
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
    """Delete a private file (the object, in an object store); a name that is not there is no error."""
    if not name:
        return
    if private_is_local():
        with contextlib.suppress(FileNotFoundError, ValueError):
            private_path(name).unlink()
        return
    with contextlib.suppress(ValueError):
        private_storage().delete(_checked(name))


def private_exists(name: str) -> bool:
    try:
        if private_is_local():
            return bool(name) and private_path(name).is_file()
        return private_storage().exists(_checked(name))
    except ValueError:
        return False


def private_open(name: str) -> BinaryIO:
    """A private file open for reading (the caller closes it, or hands it to a FileResponse that does)."""
    if private_is_local():
        return open(private_path(name), "rb")  # noqa: SIM115
    return private_storage().open(_checked(name), "rb")


def private_copy(source: str, target: str) -> None:
    """Give target the content of source, unless target exists already: a hard link where the folder allows it, a
    copy otherwise (in an object store, the object store copies it)."""
    if private_exists(target):
        return
    if not private_is_local():
        with private_open(source) as handle:
            private_storage().save(_checked(target), File(handle, name=target))
        return
    final = private_path(target)
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    temp = final.with_name(f".{final.name}.link{PART_SUFFIX}")
    temp.unlink(missing_ok=True)
    try:
        os.link(private_path(source), temp)
    except OSError:
        shutil.copyfile(private_path(source), temp)
    os.replace(temp, final)


def private_write_bytes(name: str, content: bytes) -> None:
    with atomic_private_file(name) as target:
        target.write(content)
