"""Database helpers that more than one app needs."""

from django.db import connection

# Sent in the same query string as the statement it speeds up: PostgreSQL runs one query string as one transaction,
# so the setting ends with it (a session-level SET would stay on a pooled server connection for its next client).
_NO_DISK_WAIT = "SET LOCAL synchronous_commit TO off;"


def without_disk_wait(sql: str) -> str:
    """`sql` to run so that its commit does not wait for the disk, on PostgreSQL (a crash may lose the last moment's
    commits, never corrupt anything); elsewhere, as it is. For writes worth less than the time their fsync takes."""
    return f"{_NO_DISK_WAIT} {sql}" if connection.vendor == "postgresql" else sql
