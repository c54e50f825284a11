"""Logs keep no secrets and no addresses: the tokens in confirmation, withdrawal, erasure and delivery links, and
e-mail addresses, are replaced before a line is written.

Why: a token in a link is as good as the person's consent (whoever holds the withdrawal link withdraws the
signature), and an access log is read by more people, and kept longer, than the database. Used by Django's console
handler (config/settings.py LOGGING), by Celery's handlers (config/celery.py) and by gunicorn's access log
(`--logger-class core.redact.AccessLogger`, in the Dockerfile and docker-compose.yml).
"""

import logging
import re

# A path segment after one of the link prefixes the site e-mails: /petitions/confirm/<token>/, .../withdraw/<token>/,
# /petitions/letters/confirm/<token>/, /petitions/delivered/<token>/, /your-data/erase/<token>/.
_TOKEN = re.compile(r"(/(?:confirm|withdraw|erase|delivered)/)[^/?#\s\"']+")
_EMAIL = re.compile(r"[\w.!#$%&*+=?^~-]+@[\w-]+(?:\.[\w-]+)+")


def redact(text: str) -> str:
    """`text` with link tokens replaced by "…" and e-mail addresses by "<address>"."""
    if not text:
        return text
    return _EMAIL.sub("<address>", _TOKEN.sub(r"\1…", text))


class RedactFilter(logging.Filter):
    """A handler filter: the formatted message (and any traceback) redacted, once, before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is not installed where only the embedded default runs
    _GunicornLogger = None

if _GunicornLogger is not None:

    class AccessLogger(_GunicornLogger):
        """gunicorn's logger, with the request line, path, query and referrer of each access-log line redacted."""

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q", "f"):
                if isinstance(atoms.get(key), str):
                    atoms[key] = redact(atoms[key])
            return atoms
