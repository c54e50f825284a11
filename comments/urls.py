from django.urls import path

from comments import views

app_name = "comments"
urlpatterns = [
    path("news/<slug:slug>/discussion/", views.discussion, name="discussion"),
    path("news/<slug:slug>/discussion/post/", views.comment_post, name="post"),
    path("comments/<int:pk>/", views.comment_permalink, name="permalink"),
    path("comments/<int:pk>/reply/", views.comment_reply, name="reply"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="delete"),
    path("comments/<int:pk>/flag/", views.comment_flag, name="flag"),
    path("comments/settings/", views.preferences, name="preferences"),
    path("comments/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("moderation/", views.moderation_queue, name="moderation_queue"),
    path("moderation/act/", views.moderation_act, name="moderation_act"),
    path("moderation/audit/", views.moderation_audit, name="moderation_audit"),
    path("moderation/audit/<int:pk>/reverse/", views.moderation_reverse, name="moderation_reverse"),
    path("moderation/readers/<int:pk>/", views.moderation_reader, name="moderation_reader"),
    path("moderation/suspensions/<int:pk>/lift/", views.moderation_suspension_lift, name="moderation_suspension_lift"),
    path("moderation/patterns/", views.moderation_patterns, name="moderation_patterns"),
    path("moderation/patterns/<int:pk>/delete/", views.moderation_pattern_delete, name="moderation_pattern_delete"),
]
