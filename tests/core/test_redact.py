"""No log line holds a link token or an e-mail address: the access log, the application's logs, and the errors a
refusing mail server gives."""

import logging
import smtplib
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.mail.backends.locmem import EmailBackend

from core.redact import AccessLogger, RedactFilter, redact

SECRETS = [
    ("/petitions/confirm/MTIzLjE:1tQe5x:abcDEF123/", "/petitions/confirm/…/"),
    ("/petitions/withdraw/NDU2LjI:1tQe5x:xyz/?utm=1", "/petitions/withdraw/…/?utm=1"),
    ("/your-data/erase/YW5uQGV4YW1wbGUub3Jn:1tQ:sig/", "/your-data/erase/…/"),
    ("/petitions/letters/confirm/abc:def/", "/petitions/letters/confirm/…/"),
    ("/petitions/delivered/tok3n/", "/petitions/delivered/…/"),
    ("refused: {'Ann.Smith+x@Example.org': (550, b'no such user')}", "refused: {'<address>': (550, b'no such user')}"),
]


@pytest.mark.parametrize(("text", "expected"), SECRETS)
def test_tokens_and_addresses_are_replaced(text, expected):
    assert redact(text) == expected


def test_the_access_log_line_holds_no_token(tmp_path):
    from gunicorn.config import Config

    log_file = tmp_path / "access.log"
    config = Config()
    config.set("accesslog", str(log_file))
    logger = AccessLogger(config)
    path = "/petitions/withdraw/NDU2LjI:1tQe5x:xyz/"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path, "QUERY_STRING": "email=a@b.example",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "198.51.100.7",
               "HTTP_REFERER": "https://site.example/petitions/confirm/MTIz:1t:abc/"}  # fmt: skip
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])], method="GET", path=path,
                              query="email=a@b.example", uri=path, version=(1, 1))  # fmt: skip
    response = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
    logger.access(response, request, environ, SimpleNamespace(seconds=0, microseconds=1000))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = log_file.read_text()
    assert "GET /petitions/withdraw/…/" in line and "198.51.100.7" in line
    assert "xyz" not in line and "abc" not in line and "a@b.example" not in line


def test_the_applications_log_handler_redacts():
    console = settings.LOGGING["handlers"]["console"]
    assert "redact" in console["filters"] and settings.LOGGING["filters"]["redact"]["()"] == "core.redact.RedactFilter"
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/petitions/"
                               "confirm/MTIz:1t:abc/",), None)  # fmt: skip
    assert RedactFilter().filter(record) and record.getMessage() == "Not Found: /petitions/confirm/…/"


class _Refusing(EmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"5.1.1 no such user")})


@pytest.mark.django_db(transaction=True)
def test_a_refused_recipient_is_not_written_to_the_log_or_the_error(settings, caplog, monkeypatch):
    import core.mail
    from core.models import OutboundEmail
    from core.services.outbox import outbound_email_pump
    from tests.petitions.factories import OpenPetitionFactory
    from tests.signatures.helpers import sign

    monkeypatch.setattr(core.mail, "_pump_nudged_at", float("inf"))
    sign(OpenPetitionFactory(), "Refused.Person@Example.org")
    settings.VIGIL_EMAIL_DELIVERY_BACKEND = f"{__name__}._Refusing"
    with caplog.at_level(logging.WARNING):
        assert outbound_email_pump() == 0
    row = OutboundEmail.objects.get()
    assert "SMTPRecipientsRefused" in row.last_error and "<address>" in row.last_error
    assert "refused.person" not in (row.last_error + caplog.text).lower()
