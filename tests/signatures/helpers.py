import re

from django.test import Client

from core.mail import outbound_email_render
from core.models import OutboundEmail
from signatures.services.signing import SignatureOrigin, SignerDetails, signature_create


def outbox_rows(to: str | None = None) -> list[OutboundEmail]:
    """The outbox, as the mailbox will read it: signature e-mails are stored unrendered and rendered at delivery,
    so each row is rendered here (in memory) the same way."""
    rows = [row for row in OutboundEmail.objects.order_by("pk") if to is None or to in row.to]
    for row in rows:
        outbound_email_render(row)
    return rows


def link_in(text: str, kind: str) -> str:
    """The path of the confirm or withdraw link in an e-mail body."""
    found = re.search(rf"https?://[^/\s]+(/petitions/{kind}/[^\s\"<]+/)", text)
    assert found, text
    return found.group(1)


def details(email: str = "ann@example.org", **overrides) -> SignerDetails:
    values = {"first_name": "Ann", "last_name": "Smith", "email": email, "country": "GB", "region": "Scotland",
              "town": "Glasgow", "show_publicly": True}  # fmt: skip
    values.update(overrides)
    return SignerDetails(**values)


def sign(petition, email: str = "ann@example.org", *, ip: str = "203.0.113.7", now=None, **overrides):
    return signature_create(
        petition=petition, details=details(email, **overrides), origin=SignatureOrigin(ip=ip), now=now
    )


def form_data(email: str = "ann@example.org", **overrides) -> dict:
    data = {"first_name": "Ann", "last_name": "Smith", "email": email, "country": "GB", "region": "Scotland",
            "town": "Glasgow", "postal_code": "G1 1AA", "show_publicly": "on", "website": "",
            "referrer": "https://news.example.net/story?id=4", "utm_source": "newsletter"}  # fmt: skip
    data.update(overrides)
    return data


def confirm_via_pages(client: Client, row: OutboundEmail) -> None:
    path = link_in(row.body_text, "confirm")
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 200, response.content
