"""Forms of the deliverables: packets, letters, sign-ons, reviews and deliveries. Rules live in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from deliverables.models import (
    DeliveryMethod,
    HoldingKind,
    JobState,
    Letter,
    LetterCompile,
    LetterKind,
    PacketExport,
    PacketKind,
)
from deliverables.services.signons import SignOnDetails, SignOnError, logo_check, proof_check, website_normalise


class PacketForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Format"), choices=PacketKind.choices, widget=forms.RadioSelect, initial=PacketKind.CSV
    )
    include_emails = forms.BooleanField(
        label=_("Include signers' e-mail addresses (CSV only)"),
        required=False,
        help_text=_("Only for organisers whose account may export them. Never sent to the decision maker."),
    )


class LetterForm(forms.ModelForm):
    class Meta:
        model = Letter
        fields = ["kind", "slug", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}
        help_texts = {"slug": _("The letter's address: /petitions/<petition>/letters/<this>/.")}


class LetterTextForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_("Plain text; a blank line starts a new paragraph."),
    )


class _SignOnForm(forms.Form):
    email = forms.CharField(
        label=_("Contact e-mail address"),
        max_length=320,
        help_text=_("We send a link to confirm. Only the organisers see it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    signer_name = forms.CharField(label=_("Name of the person signing"), max_length=500)
    signer_role = forms.CharField(label=_("Their role"), max_length=500, required=False)

    def details(self) -> SignOnDetails:
        data = self.cleaned_data
        return SignOnDetails(
            name=data["name"],
            signer_name=data["signer_name"],
            signer_role=data.get("signer_role", ""),
            email=data["email"],
            website=data.get("website", ""),
            holding_kind=data.get("holding_kind", ""),
            shares=data.get("shares"),
        )


class CoalitionSignOnForm(_SignOnForm):
    # Lengths are checked by the service with a clear message (and by the column), not cut by the browser.
    name = forms.CharField(label=_("Organisation"), max_length=500)
    website = forms.CharField(label=_("Website"), max_length=300, widget=forms.URLInput(attrs={"inputmode": "url"}))
    logo = forms.FileField(label=_("Logo"), required=False, help_text=_("Optional. A JPEG, PNG, WebP or GIF."))
    field_order = ["name", "website", "logo", "signer_name", "signer_role", "email"]

    def clean_website(self):
        try:
            return website_normalise(self.cleaned_data.get("website", ""))
        except SignOnError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        try:
            return logo_check(upload)
        except SignOnError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ShareholderSignOnForm(_SignOnForm):
    name = forms.CharField(label=_("Shareholder (person or fund)"), max_length=500)
    holding_kind = forms.ChoiceField(
        label=_("Holding"), choices=HoldingKind.choices, widget=forms.RadioSelect, initial=HoldingKind.UNDISCLOSED
    )
    shares = forms.IntegerField(label=_("Number of shares"), required=False, min_value=1)
    proof = forms.FileField(
        label=_("Proof of holding"),
        required=False,
        help_text=_("Optional. A PDF or an image; only the organisers can open it."),
    )
    field_order = ["name", "holding_kind", "shares", "proof", "signer_name", "signer_role", "email"]

    def clean_proof(self):
        upload = self.cleaned_data.get("proof")
        if not upload:
            return None
        try:
            return proof_check(upload)
        except SignOnError as exc:
            raise forms.ValidationError(str(exc)) from exc


def signon_form_class(letter: Letter):
    return CoalitionSignOnForm if letter.kind == LetterKind.COALITION else ShareholderSignOnForm


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("verify", _("Verify")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note (kept on record)"), max_length=500, required=False)


class DeliveryForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How"), choices=DeliveryMethod.choices, widget=forms.RadioSelect, initial=DeliveryMethod.EMAIL
    )
    exports = forms.ModelMultipleChoiceField(
        label=_("Signature packets"),
        queryset=PacketExport.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    compiles = forms.ModelMultipleChoiceField(
        label=_("Compiled letters"),
        queryset=LetterCompile.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label=_("Covering note (e-mail)"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    note = forms.CharField(
        label=_("Delivered by hand: where, when, to whom"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    mark_delivered = forms.BooleanField(label=_("Mark the petition as delivered"), required=False, initial=True)
    notify_signers = forms.BooleanField(
        label=_("Tell signers who agreed to hear from the organisers"), required=False, initial=True
    )

    def __init__(self, *args, petition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exports"].queryset = PacketExport.objects.filter(
            petition=petition, state=JobState.DONE, include_emails=False
        ).order_by("-created_at")
        self.fields["exports"].label_from_instance = lambda e: (
            f"{e.get_kind_display()} · {e.rows_total:,} rows · {e.finished_at:%Y-%m-%d %H:%M}"
        )
        self.fields["compiles"].queryset = (
            LetterCompile.objects.filter(letter__petition=petition, state=JobState.DONE)
            .select_related("letter")
            .order_by("letter_id", "-number")
        )
        self.fields["compiles"].label_from_instance = lambda c: (
            f"{c.letter.title} · compile {c.number} · {c.signatory_count} signatories"
        )
