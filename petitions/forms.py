import copy

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.compat import PlainFieldsCleanMixin
from core.forms import CleanImageField
from petitions.models import MembershipRole, Petition, PetitionOutcome
from signatures.countries import COUNTRIES, COUNTRY_NAMES
from signatures.email import InvalidEmail, email_canonical
from signatures.models import RuleAction, RuleKind
from signatures.services.signing import SignatureOrigin, SignerDetails

HONEYPOT_FIELD = "website"
COUNTRY_CHOICES = [("", _("Choose your country")), *COUNTRIES]


class SharedChoicesSelect(forms.Select):
    """A Select whose (long, never-changing) choices are shared by every copy instead of re-normalised per form,
    and whose HTML is rendered once per process for each name, value, attributes and language: Django renders an
    option through three included templates, and the country list's 250 options were two thirds of the CPU of a
    petition page rendered for a signed-in visitor or a form sent back with an error (bench/README.md, "Measured
    history")."""

    _rendered: dict = {}

    def __deepcopy__(self, memo):
        copied = copy.copy(self)
        copied.attrs = self.attrs.copy()
        memo[id(self)] = copied
        return copied

    def render(self, name, value, attrs=None, renderer=None):
        key = (id(self.choices), name, str(value), tuple(sorted((attrs or {}).items())), id(renderer), get_language())
        html = self._rendered.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(self._rendered) > 2000:  # values come from posted forms: bound what they can fill
                self._rendered.clear()
            self._rendered[key] = html
        return html


class _SharedField:
    """A field that every form instance shares. Django deep-copies each form's fields so that one instance may
    change its own; the signing form changes none per request (postal_code is copied first, see SignForm), and the
    copies were a large share of a signature's cost."""

    def __deepcopy__(self, memo):
        return self


class SharedCharField(_SharedField, forms.CharField):
    pass


class SharedBooleanField(_SharedField, forms.BooleanField):
    pass


def _no_markup(value: str) -> str:
    value = " ".join((value or "").split())
    if "<" in value or ">" in value:
        raise forms.ValidationError(_("Names cannot contain < or >."))
    if any(ord(char) < 32 for char in value):
        raise forms.ValidationError(_("Remove the invisible characters from this field."))
    return value


class CanonicalEmailMixin:
    """An `email` field whose canonical form (what makes a signer the same signer) is kept as `canonical_email`."""

    def clean_email(self):
        raw = self.cleaned_data["email"]
        try:
            self.canonical_email = email_canonical(raw)
        except InvalidEmail as exc:
            raise forms.ValidationError(str(exc)) from exc
        return raw.strip()


class SignForm(PlainFieldsCleanMixin, CanonicalEmailMixin, forms.Form):
    """The signing form: no account needed. Hidden fields carry where the signer came from."""

    first_name = SharedCharField(
        label=_("First name"), max_length=80, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = SharedCharField(
        label=_("Last name"), max_length=80, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = SharedCharField(
        label=_("E-mail address"),
        max_length=320,
        help_text=_("We send you a link to confirm. It is never shown publicly."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    # A CharField with a shared Select rather than a ChoiceField: Django deep-copies and re-normalises a ChoiceField's
    # 250 choices for every form, milliseconds per signature in a surge. clean_country checks the code.
    country = SharedCharField(
        label=_("Country"),
        max_length=2,
        widget=SharedChoicesSelect(choices=COUNTRY_CHOICES, attrs={"autocomplete": "country"}),
    )
    region = SharedCharField(
        label=_("Region, state or county"), max_length=80, required=False, help_text=_("Optional.")
    )
    town = SharedCharField(
        label=_("Town or city"), max_length=80, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
        help_text=_("Optional. Shown beside your name if you agree below."),
    )  # fmt: skip
    postal_code = SharedCharField(
        label=_("Postal code"),
        max_length=16,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    show_publicly = SharedBooleanField(
        label=_("Show my first name, last initial and town on this page"), required=False
    )
    contact_ok = SharedBooleanField(label=_("The organisers may e-mail me about this campaign"), required=False)
    # A field people never see (hidden by the stylesheet, skipped by keyboard and screen readers): bots fill it.
    website = SharedCharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    referrer = SharedCharField(required=False, max_length=2000, widget=forms.HiddenInput)
    utm_source = SharedCharField(required=False, max_length=100, widget=forms.HiddenInput)
    utm_medium = SharedCharField(required=False, max_length=100, widget=forms.HiddenInput)
    utm_campaign = SharedCharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, petition: Petition, **kwargs):
        super().__init__(*args, **kwargs)
        self.petition = petition
        postal_code = self.fields["postal_code"] = copy.copy(self.fields["postal_code"])  # changed per petition
        if petition.postal_code_required:
            postal_code.required = True
        else:
            postal_code.help_text = _("Optional.")

    def clean_country(self):
        code = self.cleaned_data["country"]
        if code not in COUNTRY_NAMES:
            raise forms.ValidationError(_("Choose a country from the list."))
        return code

    def clean_first_name(self):
        return _no_markup(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return _no_markup(self.cleaned_data["last_name"])

    def clean_town(self):
        return _no_markup(self.cleaned_data["town"])

    def clean_region(self):
        return _no_markup(self.cleaned_data["region"])

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())

    def details(self) -> SignerDetails:
        data = self.cleaned_data
        return SignerDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            country=data["country"],
            region=data["region"],
            town=data["town"],
            postal_code=data["postal_code"],
            show_publicly=data["show_publicly"],
            contact_ok=data["contact_ok"],
        )

    def origin(self, *, ip: str, marked_rule: int | None = None) -> SignatureOrigin:
        data = self.cleaned_data
        return SignatureOrigin(
            ip=ip,
            marked_rule=marked_rule,
            referrer=data["referrer"],
            utm_source=data["utm_source"],
            utm_medium=data["utm_medium"],
            utm_campaign=data["utm_campaign"],
        )


class ResendForm(CanonicalEmailMixin, forms.Form):
    email = forms.CharField(
        label=_("E-mail address you signed with"),
        max_length=320,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class MyDataForm(ResendForm):
    """Ask for a copy, or the erasure, of what is held under an e-mail address."""

    email = forms.CharField(
        label=_("Your e-mail address"), max_length=320, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    kind = forms.ChoiceField(
        label=_("What would you like?"),
        choices=[
            ("copy", _("A copy of everything held under this address, sent to it")),
            ("erase", _("Erase it: signatures withdrawn and anonymised, sign-ons' contact details removed")),
        ],
        widget=forms.RadioSelect,
        initial="copy",
    )


class PetitionForm(forms.ModelForm):
    """What organisers write; the body is sanitised by the service, the image cleaned here."""

    class Meta:
        model = Petition
        fields = [
            "title", "slug", "target_name", "target_organisation", "target_email", "ask", "body", "image",
            "image_alt", "goal", "postal_code_required", "opens_at", "closes_at",
        ]  # fmt: skip
        field_classes = {"image": CleanImageField}
        widgets = {
            "body": forms.Textarea(attrs={"rows": 14}),
            "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def clean(self):
        data = super().clean()
        if data.get("image") and not data.get("image_alt"):
            self.add_error("image_alt", _("Describe the picture for people who cannot see it."))
        opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("The closing time must be after the opening time."))
        return data


class UpdateForm(forms.Form):
    """An update's title and text; the text is cleaned, and its length checked, by the service."""

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Paragraphs, headings, lists and links. Scripts and styles are removed."),
    )
    image = CleanImageField(
        label=_("Picture"),
        required=False,
        help_text=_("Optional. JPEG, PNG or WebP; its location and camera details are removed."),
    )
    image_alt = forms.CharField(
        label=_("What the picture shows"),
        max_length=300,
        required=False,
        help_text=_("For people who cannot see it. Needed with a picture."),
    )
    remove_image = forms.BooleanField(label=_("Remove the picture"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("image") and not data.get("image_alt"):
            self.add_error("image_alt", _("Describe the picture for people who cannot see it."))
        return data


class TransitionForm(forms.Form):
    move = forms.ChoiceField(choices=[(name, name) for name in ("open", "close", "deliver", "archive")])


class InvalidateForm(forms.Form):
    kind = forms.ChoiceField(choices=[("ip", "ip"), ("domain", "domain")], widget=forms.HiddenInput)
    value = forms.CharField(max_length=253, widget=forms.HiddenInput)
    since = forms.DateTimeField(widget=forms.HiddenInput)
    until = forms.DateTimeField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (kept on record)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RuleForm(forms.Form):
    """A signature rule, as organisers (their petition) and staff (every petition) add one."""

    kind = forms.ChoiceField(label=_("What it matches"), choices=RuleKind.choices)
    value = forms.CharField(
        label=_("Matching"),
        max_length=254,
        required=False,
        help_text=_(
            "A network (203.0.113.0/24, 2001:db8::/64), a domain (example.com covers its subdomains; spam-*.example "
            "is a pattern), one e-mail address, or a country code for a limit. Leave empty for disposable domains."
        ),
    )
    limit = forms.IntegerField(
        label=_("Country limit"), min_value=0, max_value=100_000_000, required=False,
        help_text=_("For a country limit: signatures from that country past this number are refused or held."),
    )  # fmt: skip
    action = forms.ChoiceField(label=_("What it does"), choices=RuleAction.choices, initial=RuleAction.MARK)
    note = forms.CharField(label=_("Note (why, for the other organisers)"), max_length=500, required=False)


class RuleChangeForm(forms.Form):
    """What a rule does and its note: what it matches stays (remove the rule and add another for that)."""

    action = forms.ChoiceField(label=_("What it does"), choices=RuleAction.choices)
    note = forms.CharField(label=_("Note (why, for the other organisers)"), max_length=500, required=False)


class InvalidationJobForm(forms.Form):
    """The criteria of an invalidation job (at least one besides the time window), and why."""

    domain = forms.CharField(label=_("E-mail domain (with its subdomains)"), max_length=253, required=False)
    ip_hash = forms.CharField(
        label=_("Address hash (as the bursts list shows it)"), max_length=64, required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    country = forms.ChoiceField(label=_("Country"), choices=[("", _("Any country")), *COUNTRIES], required=False)
    since = forms.DateTimeField(
        label=_("Signed from"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        label=_("Signed before"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    name = forms.CharField(
        label=_("Name pattern"), max_length=160, required=False,
        help_text=_("Matched on the first name, the last name or both, in any case; * stands for anything."),
    )  # fmt: skip
    rule = forms.TypedChoiceField(label=_("Held by the rule"), coerce=int, empty_value=None, required=False)
    reason = forms.CharField(
        label=_("Reason (kept on record)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, rules=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("Any")), *((rule.pk, str(rule.description)) for rule in rules)]


class MemberForm(forms.Form):
    email = forms.EmailField(label=_("Their e-mail address"), help_text=_("We send them an invitation to accept."))
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices, initial=MembershipRole.ORGANISER)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=PetitionOutcome.choices, required=False)
    note = forms.CharField(
        label=_("In a sentence"),
        max_length=300,
        required=False,
        help_text=_("Shown in the banner, e.g. “Megacorp stopped selling face recognition.”"),
    )


class ResponseForm(forms.Form):
    answered_by = forms.CharField(
        label=_("Who answered"),
        max_length=200,
        help_text=_("Name and role, e.g. “Dana Chief, chief executive of Megacorp”."),
    )
    answered_on = forms.DateField(label=_("Date of the answer"), widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label=_("The response"), widget=forms.Textarea(attrs={"rows": 12}))
    link = forms.URLField(label=_("Link to the original"), required=False, max_length=500, assume_scheme="https")
    document = forms.FileField(
        label=_("The response as a PDF"),
        required=False,
        help_text=_("Optional: the letter itself, shown for download beside the response."),
    )
    remove_document = forms.BooleanField(label=_("Remove the PDF"), required=False)


class ThresholdsForm(forms.Form):
    counts = forms.CharField(
        label=_("Milestones"),
        required=False,
        max_length=300,
        help_text=_(
            "Numbers of signatures, separated by spaces, e.g. “10,000 100,000”. Passing one tells you by "
            "e-mail and drafts an update for you to publish."
        ),  # fmt: skip
    )
