"""E-mail to a petition's team: one message to every member holding a role (or a higher one), once per event."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from core.mail import outbound_email_queue
from petitions.models import Petition
from petitions.selectors import petition_member_emails


def petition_members_tell(
    *,
    petition: Petition,
    role: str,
    subject: str,
    template: str,
    context: dict,
    idempotency_key: str,
    leave_out: tuple[str, ...] = (),
) -> bool:
    """Write one message to the petition's members holding `role` or a higher one (active accounts; not the
    addresses in `leave_out`), rendered from `template` with the petition and the site's name added to `context`.
    Once per `idempotency_key`, in the caller's transaction. False if there was no one to tell."""
    emails = [email for email in petition_member_emails(petition=petition, role=role) if email not in leave_out]
    if not emails:
        return False
    body = render_to_string(template, {"petition": petition, "site_name": settings.SITE_NAME, **context})
    outbound_email_queue(EmailMessage(subject=subject, body=body, to=emails), idempotency_key=idempotency_key)
    return True
