from django import forms
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What it is for"), max_length=100,
                           help_text=_("The tool that will use it, e.g. “Action Network sync”."))  # fmt: skip
    can_write = forms.BooleanField(label=_("It may record signatures"), required=False,
                                   help_text=_("Each signer still confirms by e-mail."))  # fmt: skip
    can_read_emails = forms.BooleanField(label=_("It may read signers' e-mail addresses"), required=False,
                                         help_text=_("Only if you may export them yourself."))  # fmt: skip
