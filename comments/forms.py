from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comments.models import FlagReason, ModerationActionKind

FORMATTING_HELP = _(
    "Plain text. Leave a blank line between paragraphs. Web addresses become links. You may also use "
    '<em>, <strong>, <blockquote>, <code>, <pre> and <a href="…">.'
)


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Your comment"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=FORMATTING_HELP,
        strip=True,
    )

    def __init__(self, *args, label: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.VIGIL_COMMENTS_MAX_LENGTH
        self.fields["text"].max_length = limit
        self.fields["text"].validators.append(MaxLengthValidator(limit))
        self.fields["text"].widget.attrs["maxlength"] = str(limit)
        if label:
            self.fields["text"].label = label


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this comment?"), choices=FlagReason.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Anything a moderator should know"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you choose “Other”."),
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == FlagReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("Say briefly what is wrong with this comment."))
        return data


SUSPENSION_CHOICES = [
    ("1", _("1 day")),
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("ban", _("For good (ban)")),
]
QUEUE_ACTIONS = [
    ("approve", _("Approve")),
    ("remove", _("Remove")),
    ("remove_suspend", _("Remove and suspend the author")),
]


def suspension_days(value: str) -> int | None:
    return None if value == "ban" else int(value)


class ModerationForm(forms.Form):
    """The queue's one form: bulk actions on the ticked comments, or one row's button (`single` = "action:id")."""

    action = forms.ChoiceField(label=_("With the selected comments"), choices=QUEUE_ACTIONS, required=False)
    single = forms.RegexField(regex=r"^(approve|remove|remove_suspend):[0-9]{1,18}$", required=False)
    selected = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    reason = forms.CharField(
        label=_("Reason (shown to the author)"),
        required=False,
        max_length=300,
        help_text=_("Needed to remove or suspend."),
    )
    duration = forms.ChoiceField(label=_("Suspension"), choices=SUSPENSION_CHOICES, initial="7", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        raw = self.data.getlist("selected") if hasattr(self.data, "getlist") else []
        self.fields["selected"].choices = [(value, value) for value in raw if str(value).isdigit()]

    def clean(self):
        data = super().clean()
        if data.get("single"):
            kind, comment_id = data["single"].split(":")
            data["kind"], data["ids"] = kind, [int(comment_id)]
        else:
            data["kind"], data["ids"] = data.get("action") or "", data.get("selected") or []
            if not data["kind"]:
                self.add_error("action", _("Choose what to do with the selected comments."))
            if not data["ids"]:
                self.add_error(None, _("Tick at least one comment first."))
        if data.get("kind") in ("remove", "remove_suspend") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give a reason for the removal; its author will see it."))
        return data


class ReaderActionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[("suspend", _("Suspend or ban")), ("hide_all", _("Hide all of this account's comments"))],
    )
    duration = forms.ChoiceField(label=_("For how long"), choices=SUSPENSION_CHOICES, initial="7", required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class WatchedPatternForm(forms.Form):
    pattern = forms.CharField(label=_("Word, phrase or pattern"), max_length=200)
    is_regex = forms.BooleanField(label=_("This is a regular expression"), required=False)
    note = forms.CharField(label=_("Note for other moderators"), max_length=200, required=False)


class PreferencesForm(forms.Form):
    reply_notices = forms.BooleanField(label=_("E-mail me when someone replies to one of my comments"), required=False)


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any"))] + list(ModerationActionKind.choices)
    )
    actor = forms.TypedChoiceField(label=_("Moderator"), required=False, coerce=int, empty_value=None, choices=())
    user = forms.IntegerField(label=_("Account number"), required=False, min_value=1)
    comment = forms.IntegerField(label=_("Comment number"), required=False, min_value=1)
    date_from = forms.DateField(label=_("From (date)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(
        label=_("To (date, inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, moderators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", _("Anyone"))] + [(m.pk, m.public_name) for m in moderators]

    @staticmethod
    def day_start(day):
        return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
