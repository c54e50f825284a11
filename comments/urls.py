from django.urls import path

from comments.views import moderation, readers

app_name = "comments"
urlpatterns = [
    path("news/<slug:slug>/discussion/", readers.discussion, name="discussion"),
    path("news/<slug:slug>/discussion/post/", readers.comment_post, name="post"),
    path("comments/<int:pk>/", readers.comment_permalink, name="permalink"),
    path("comments/<int:pk>/reply/", readers.comment_reply, name="reply"),
    path("comments/<int:pk>/edit/", readers.comment_edit, name="edit"),
    path("comments/<int:pk>/delete/", readers.comment_delete, name="delete"),
    path("comments/<int:pk>/flag/", readers.comment_flag, name="flag"),
    path("comments/<int:pk>/feature/", moderation.comment_feature, name="feature"),
    path("comments/settings/", readers.preferences, name="preferences"),
    path("comments/settings/my-data.json", readers.reader_data_download, name="reader_data"),
    path("comments/unsubscribe/<str:token>/", readers.unsubscribe, name="unsubscribe"),
    path("moderation/", moderation.moderation_queue, name="moderation_queue"),
    path("moderation/act/", moderation.moderation_act, name="moderation_act"),
    path("moderation/audit/", moderation.moderation_audit, name="moderation_audit"),
    path("moderation/audit/<int:pk>/reverse/", moderation.moderation_reverse, name="moderation_reverse"),
    path("moderation/readers/<int:pk>/", moderation.moderation_reader, name="moderation_reader"),
    path(
        "moderation/suspensions/<int:pk>/lift/",
        moderation.moderation_suspension_lift,
        name="moderation_suspension_lift",
    ),
    path("moderation/patterns/", moderation.moderation_patterns, name="moderation_patterns"),
    path(
        "moderation/patterns/<int:pk>/delete/", moderation.moderation_pattern_delete, name="moderation_pattern_delete"
    ),
]
