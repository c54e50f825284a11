from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _

from petitions.forms import PetitionForm
from petitions.models import Petition, PetitionMembership, PetitionRevision
from petitions.services import TRANSITIONS, PetitionStateError, petition_create, petition_save


class PetitionMembershipInline(admin.TabularInline):
    model = PetitionMembership
    extra = 1
    autocomplete_fields = ["user"]


class PetitionRevisionInline(admin.StackedInline):
    model = PetitionRevision
    extra = 0
    can_delete = False
    readonly_fields = ["number", "title", "ask", "body", "valid_from", "valid_until", "changed_by"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    form = PetitionForm
    list_display = ["title", "status", "goal", "opened_at", "closes_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["title", "slug", "ask", "target_name", "target_organisation"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "opened_at", "closed_at", "delivered_at", "archived_at", "signers_anonymised_at",
                       "created_at", "updated_at"]  # fmt: skip
    inlines = [PetitionMembershipInline, PetitionRevisionInline]
    actions = ["open_petitions", "close_petitions", "mark_delivered", "archive_petitions"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["title", "slug", "ask", "body", "image", "image_alt", "goal", "postal_code_required"]}),
        (_("Decision maker"), {"fields": ["target_name", "target_organisation", "target_email"]}),
        (_("Lifecycle"), {"fields": ["status", "opens_at", "closes_at", "opened_at", "closed_at", "delivered_at",
                                     "archived_at", "signers_anonymised_at", "created_at", "updated_at"]}),
    ]  # fmt: skip

    def save_model(self, request, obj: Petition, form, change: bool) -> None:
        if change:
            petition_save(petition=obj, by=request.user)
        else:
            petition_create(petition=obj, by=request.user)

    def _move(self, request, queryset, move: str) -> None:
        done = 0
        for petition in queryset:
            try:
                TRANSITIONS[move](petition=petition)
                done += 1
            except PetitionStateError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, _("%(n)d petition(s) changed.") % {"n": done})

    @admin.action(description=_("Open the selected drafts"))
    def open_petitions(self, request, queryset):
        self._move(request, queryset, "open")

    @admin.action(description=_("Close the selected open petitions"))
    def close_petitions(self, request, queryset):
        self._move(request, queryset, "close")

    @admin.action(description=_("Mark the selected closed petitions as delivered"))
    def mark_delivered(self, request, queryset):
        self._move(request, queryset, "deliver")

    @admin.action(description=_("Archive the selected petitions"))
    def archive_petitions(self, request, queryset):
        self._move(request, queryset, "archive")


@admin.register(PetitionMembership)
class PetitionMembershipAdmin(admin.ModelAdmin):
    list_display = ["petition", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["petition__title", "user__email"]
    autocomplete_fields = ["petition", "user"]
    list_select_related = ["petition", "user"]


# --- Deliverables ----------------------------------------------------------------------------------------------------
from petitions.models import Delivery, DeliveryItem, DeliveryLog, Letter, LetterCompile, LetterVersion  # noqa: E402


class LetterVersionInline(admin.TabularInline):
    model = LetterVersion
    extra = 0
    can_delete = False
    readonly_fields = ["number", "title", "created_at", "created_by"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ["title", "petition", "kind", "state", "created_at"]
    list_filter = ["kind", "state"]
    list_select_related = ["petition"]
    search_fields = ["title", "slug", "petition__title"]
    readonly_fields = ["current_version", "created_by", "created_at", "opened_at", "closed_at", "state"]
    inlines = [LetterVersionInline]


@admin.register(LetterCompile)
class LetterCompileAdmin(admin.ModelAdmin):
    list_display = ["letter", "number", "state", "signatory_count", "created_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["letter"]
    readonly_fields = [f.name for f in LetterCompile._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class DeliveryItemInline(admin.TabularInline):
    model = DeliveryItem
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "label", "file_name", "file_size", "checksum", "as_link"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["petition", "method", "state", "recipient_name", "created_at", "delivered_at"]
    list_filter = ["method", "state"]
    list_select_related = ["petition"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryItemInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DeliveryLog)
class DeliveryLogAdmin(admin.ModelAdmin):
    list_display = ["at", "petition", "event", "to", "by", "message_id"]
    list_filter = ["event"]
    list_select_related = ["petition", "by"]
    readonly_fields = [f.name for f in DeliveryLog._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
