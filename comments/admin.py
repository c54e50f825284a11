"""Admin screens: for looking things up. Decisions go through the moderators' queue, so that each is on record."""

from django.contrib import admin

from comments.models import (
    Comment,
    CommentFlag,
    CommentPreferences,
    ModerationAction,
    QueueCounter,
    Suspension,
    WatchedPattern,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("pk", "article", "author", "state", "depth", "open_flag_count", "thread_reply_count", "created_at")
    list_filter = ("state",)
    search_fields = ("body_source", "author__email", "author__display_name", "article__title")
    raw_id_fields = ("article", "parent", "root", "author")
    list_select_related = ("article", "author")
    date_hierarchy = "created_at"


@admin.register(CommentFlag)
class CommentFlagAdmin(ReadOnlyAdmin):
    list_display = ("pk", "comment", "user", "reason", "created_at", "reviewed_at")
    list_filter = ("reason",)
    raw_id_fields = ("comment", "user", "reviewed_by_action")
    list_select_related = ("comment", "user")


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    list_display = ("pk", "created_at", "actor", "action", "comment", "target_user", "reason", "reversed_at")
    list_filter = ("action",)
    raw_id_fields = ("actor", "comment", "target_user", "suspension", "group", "reverses", "reversed_by")
    list_select_related = ("actor", "comment", "target_user")


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    list_display = ("pk", "user", "until", "reason", "created_by", "created_at", "lifted_at")
    raw_id_fields = ("user", "created_by", "lifted_by")
    list_select_related = ("user", "created_by")


@admin.register(WatchedPattern)
class WatchedPatternAdmin(admin.ModelAdmin):
    list_display = ("pattern", "is_regex", "note", "created_by", "created_at")
    search_fields = ("pattern",)
    raw_id_fields = ("created_by",)


@admin.register(CommentPreferences)
class CommentPreferencesAdmin(admin.ModelAdmin):
    list_display = ("user", "reply_notices", "updated_at")
    raw_id_fields = ("user",)


@admin.register(QueueCounter)
class QueueCounterAdmin(ReadOnlyAdmin):
    list_display = ("kind", "count")
