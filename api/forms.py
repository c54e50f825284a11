from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import EventKind


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What it is for"), max_length=100,
                           help_text=_("The tool that will use it, e.g. “Action Network sync”."))  # fmt: skip
    can_write = forms.BooleanField(
        label=_("It may write: record signatures, edit this petition's text and start new petitions"),
        required=False,
        help_text=_(
            "Each signer still confirms by e-mail. It writes in your name, only while you could do the same here."
        ),
    )
    can_read_emails = forms.BooleanField(label=_("It may read signers' e-mail addresses"), required=False,
                                         help_text=_("Only if you may export them yourself."))  # fmt: skip


class WebhookForm(forms.Form):
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("An https:// address on the public internet that accepts POST requests."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Events to send"),
        choices=EventKind.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[EventKind.SIGNATURE_CONFIRMED, EventKind.SIGNATURE_WITHDRAWN],
    )
    can_read_emails = forms.BooleanField(
        label=_("Include signers' e-mail addresses"),
        required=False,
        help_text=_("Only if you may export them yourself."),
    )
