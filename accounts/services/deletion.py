"""A reader deleting their own account; other apps let go of what they hold for it through `account_deleting`."""

from django.db import transaction
from django.dispatch import Signal

from accounts.models import User
from core.services.scrub import outbound_email_scrub_to


class AccountDeletionRefused(ValueError):
    """A part of the site cannot let this account go yet; the message says what to do first."""


# Sent inside the deletion's transaction, before the account row goes: each app erases or detaches what the
# account wrote, or raises AccountDeletionRefused (a petition whose only owner it is). accounts sits below the apps,
# so they come to it, not it to them.
account_deleting = Signal()


def account_delete(*, user: User) -> None:
    """Delete an account at its owner's request: the apps erase what it wrote (comments keep a "[deleted]" place in
    their threads), the mail written to its addresses is scrubbed, then the account, its e-mail addresses, second
    factors and sessions go."""
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        account_deleting.send(sender=User, user=user)
        addresses = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
        outbound_email_scrub_to(addresses=addresses)
        user.delete()
