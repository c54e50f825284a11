"""The admin of deliverables: letters and their versions, sign-ons, compiles, packets, deliveries and the logs.
Jobs and logs are read-only here: they are made by the organiser pages and the worker, and the logs are a record."""

from django.contrib import admin

from core.admin import JobRowAdmin, RecordAdmin
from deliverables.models import (
    Delivery,
    DeliveryItem,
    DeliveryLog,
    Letter,
    LetterCompile,
    LetterVersion,
    PacketExport,
    PrivateDownload,
    SignOn,
)


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
class LetterCompileAdmin(JobRowAdmin):
    list_display = ["letter", "number", "state", "signatory_count", "created_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["letter"]


class DeliveryItemInline(admin.TabularInline):
    model = DeliveryItem
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "label", "file_name", "file_size", "checksum", "as_link"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(JobRowAdmin):
    list_display = ["petition", "method", "state", "recipient_name", "created_at", "delivered_at"]
    list_filter = ["method", "state"]
    list_select_related = ["petition"]
    inlines = [DeliveryItemInline]


@admin.register(DeliveryLog)
class DeliveryLogAdmin(RecordAdmin):
    list_display = ["at", "petition", "event", "to", "by", "message_id"]
    list_filter = ["event"]
    list_select_related = ["petition", "by"]


@admin.register(SignOn)
class SignOnAdmin(admin.ModelAdmin):
    list_display = ["name", "letter", "state", "signer_name", "created_at", "reviewed_at"]
    list_filter = ["state"]
    list_select_related = ["letter"]
    search_fields = ["name", "canonical_website", "=canonical_email"]
    readonly_fields = ["letter", "letter_version", "canonical_email", "canonical_website", "proof_file",
                       "proof_mimetype", "proof_size", "created_at", "confirmed_at", "reviewed_at", "reviewed_by",
                       "renditions", "generation"]  # fmt: skip


@admin.register(PacketExport)
class PacketExportAdmin(JobRowAdmin):
    list_display = ["petition", "kind", "include_emails", "state", "rows_done", "rows_total", "created_at",
                    "expires_at"]  # fmt: skip
    list_filter = ["kind", "state"]
    list_select_related = ["petition"]


@admin.register(PrivateDownload)
class PrivateDownloadAdmin(RecordAdmin):
    list_display = ["at", "petition", "kind", "user", "file_name"]
    list_filter = ["kind"]
    list_select_related = ["petition", "user"]
