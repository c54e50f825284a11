from django.contrib import admin

from api.models import ApiCall, ApiToken, WebhookDelivery, WebhookEndpoint
from core.admin import JobRowAdmin, RecordAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(JobRowAdmin):
    """Made and revoked by petition owners on their pages; staff see which exist and when each was last used."""

    list_display = ["name", "prefix", "petition", "scopes", "created_by", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "petition__title"]
    exclude = ["digest"]
    readonly_fields = [f.name for f in ApiToken._meta.fields if f.name != "digest"]


@admin.register(ApiCall)
class ApiCallAdmin(RecordAdmin):
    list_display = ["at", "token", "method", "path", "status", "duration_ms"]
    list_filter = ["method", "status"]
    date_hierarchy = "at"
    list_select_related = ["token"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(JobRowAdmin):
    """Registered by petition owners on their pages; the secret is never shown here."""

    list_display = ["url", "petition", "is_active", "failures_in_row", "last_success_at", "last_failure_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "petition__title"]
    exclude = ["secret"]
    readonly_fields = [f.name for f in WebhookEndpoint._meta.fields if f.name != "secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RecordAdmin):
    list_display = ["event", "endpoint", "attempts", "last_status", "delivered_at"]
    list_filter = [("delivered_at", admin.EmptyFieldListFilter), "last_status"]
    list_select_related = ["event", "endpoint"]
