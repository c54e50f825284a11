from django.contrib import admin, messages

from core.jobs import enqueue
from core.models import Event, OutboundEmail


class JobRowAdmin(admin.ModelAdmin):
    """Rows that the services and the worker write (jobs, deliveries): staff read every field and add none here."""

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields or [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RecordAdmin(JobRowAdmin):
    """A record (a log, the ledger): read here, never changed or deleted here."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "recipients", "status", "attempts", "created_at", "sent_at"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "message_id", "idempotency_key"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = [field.name for field in OutboundEmail._meta.fields]

    @admin.display(description="to")
    def recipients(self, obj: OutboundEmail) -> str:
        return ", ".join(obj.to)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Try delivering the selected failed messages again")
    def retry(self, request, queryset):
        ids = list(queryset.filter(sent_at__isnull=True).values_list("pk", flat=True))
        queryset.filter(pk__in=ids).update(failed_at=None, attempts=0)
        for email_id in ids:
            enqueue("core.tasks.outbound_email_send_task", email_id)
        self.message_user(request, f"{len(ids)} message(s) queued again.", messages.SUCCESS)


@admin.register(Event)
class EventAdmin(RecordAdmin):
    list_display = ["kind", "petition", "subject_id", "created_at", "fanned_out_at"]
    list_filter = ["kind"]
    date_hierarchy = "created_at"
    list_select_related = ["petition"]
