from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.admin import JobRowAdmin, RecordAdmin
from petitions.forms import PetitionForm
from petitions.models import Petition, PetitionMembership, PetitionRevision, PetitionUpdate, UpdateMailing
from petitions.services.editing import petition_create, petition_save
from petitions.services.errors import PetitionStateError
from petitions.services.lifecycle import TRANSITIONS


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


@admin.register(PetitionUpdate)
class PetitionUpdateAdmin(JobRowAdmin):
    """Written and published by the petition's organisers on their pages (where the text is cleaned and the webhooks
    told); staff read them here, and can remove one."""

    list_display = ["title", "petition", "number", "kind", "published_at", "created_by"]
    list_filter = [("published_at", admin.EmptyFieldListFilter), "kind"]
    search_fields = ["title", "petition__title"]
    list_select_related = ["petition", "created_by"]


@admin.register(UpdateMailing)
class UpdateMailingAdmin(RecordAdmin):
    """Updates e-mailed to signers: who asked, who approved, and how it went. Asked for, approved and stopped on the
    organisers' pages (the four-eyes rule and the weekly limit live in the service)."""

    list_display = ["update", "petition", "state", "requested_by", "approved_by", "approved_at", "audience", "sent",
                    "withheld", "failed", "finished_at"]  # fmt: skip
    list_filter = ["state"]
    search_fields = ["update__title", "petition__title"]
    list_select_related = ["update", "petition", "requested_by", "approved_by"]
