import contextlib

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin import RecordAdmin
from signatures.email import InvalidEmail, email_canonical, email_masked
from signatures.models import (
    CountCorrection,
    IntakeFailure,
    Signature,
    SignatureInvalidation,
    SignatureRule,
    SignatureRuleChange,
)
from signatures.services.intake import signature_intake_failures_retry


@admin.register(Signature)
class SignatureAdmin(RecordAdmin):
    """Signatures are the signers' own record: staff look them up and read them; signers change them by their links,
    and rows are withdrawn, purged or anonymised by their services only, so the counts stay exact. Search takes an
    e-mail address in any form and looks up its canonical form."""

    list_display = ["pk", "petition", "public_name", "masked_email", "country", "state", "created_at", "confirmed_at"]
    list_filter = ["state", "country"]
    list_select_related = ["petition"]
    search_fields = ["=canonical_email"]
    search_help_text = _("An e-mail address (any spelling of it: dots, +tags and case are handled).")
    show_full_result_count = False
    date_hierarchy = None
    fields = [
        "petition", "state", "first_name", "last_name", "email", "canonical_email", "country", "region", "town",
        "postal_code", "show_publicly", "contact_ok", "ip_hash", "referrer_host", "utm_source", "utm_medium",
        "utm_campaign", "generation", "mail_count", "created_at", "confirmed_at", "withdrawn_at", "invalidated_at",
        "invalidation", "anonymised_at", "counted",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("E-mail"))
    def masked_email(self, obj: Signature) -> str:
        return email_masked(obj.email)

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if term:
            with contextlib.suppress(InvalidEmail):
                term = email_canonical(term)
        return super().get_search_results(request, queryset, term)


@admin.register(IntakeFailure)
class IntakeFailureAdmin(admin.ModelAdmin):
    """Signatures the intake could not write, with the database's reason. Fix the cause, then retry: an entry
    written meanwhile is not written twice. Purged with unconfirmed signatures (they hold the same data)."""

    list_display = ["failed_at", "petition_id_hint", "short_error", "attempts"]
    readonly_fields = ["failed_at", "petition_id_hint", "error", "attempts", "entry"]
    fields = readonly_fields
    actions = ["retry"]

    @admin.display(description=_("Error"))
    def short_error(self, obj: IntakeFailure) -> str:
        return obj.error[:120]

    @admin.action(description=_("Write the selected signatures again"), permissions=["change"])
    def retry(self, request, queryset):
        written, failing = signature_intake_failures_retry(failures=list(queryset))
        if written:
            self.message_user(request, _("%(n)d signature(s) written.") % {"n": written}, messages.SUCCESS)
        if failing:
            self.message_user(
                request, _("%(n)d still fail; their errors are updated.") % {"n": failing}, messages.WARNING
            )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SignatureInvalidation)
class SignatureInvalidationAdmin(admin.ModelAdmin):
    """Read-only: jobs are counted, run, stopped and reversed from the organisers' pages, which keep the record."""

    list_display = ["created_at", "petition", "state", "matched", "signature_count", "restored_count", "created_by"]
    list_filter = ["state"]
    list_select_related = ["petition", "created_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SignatureRuleChangeInline(admin.TabularInline):
    model = SignatureRuleChange
    fields = ["at", "by", "change", "before", "after"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SignatureRule)
class SignatureRuleAdmin(admin.ModelAdmin):
    """Read-only, with each rule's audit: rules are added and removed at /organise/rules/ (every petition) and on
    each petition's rules page, so that every change is recorded."""

    list_display = ["kind", "value", "action", "petition", "created_by", "created_at", "removed_at"]
    list_filter = [
        "kind",
        "action",
        ("petition", admin.EmptyFieldListFilter),
        ("removed_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["petition", "created_by"]
    search_fields = ["value", "note"]
    inlines = [SignatureRuleChangeInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CountCorrection)
class CountCorrectionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "petition", "kind", "recorded", "actual"]
    list_select_related = ["petition"]
    readonly_fields = ["petition", "created_at", "kind", "recorded", "actual", "detail"]

    def has_add_permission(self, request) -> bool:
        return False
