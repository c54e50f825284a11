"""Where files live. Public files (uploads, their renditions, logos) go through Django's default storage; private
files (packets, compiled letters, proof documents, delivered copies) through `private_storage()`, which only the
views that check who asks ever read from.

Both are local folders by default (MEDIA_ROOT, VIGIL_PRIVATE_ROOT: the embedded default and a single host). With
VIGIL_S3_BUCKET set, both are prefixes of an S3-compatible bucket (settings.STORAGES "default" and "private"), so
that any web process or worker on any host reads what another wrote.
"""

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages


def private_storage() -> Storage:
    if "private" in settings.STORAGES:
        return storages["private"]
    return FileSystemStorage(
        location=settings.VIGIL_PRIVATE_ROOT, file_permissions_mode=0o640, directory_permissions_mode=0o750
    )


def private_is_local() -> bool:
    """Private files are in a local folder (so a path, a rename and a hard link mean something)."""
    return "private" not in settings.STORAGES
