from django.urls import path

from api.views import docs, tokens, webhooks

app_name = "api"

urlpatterns = [
    path("api/v1/docs/", docs.api_docs, name="docs"),
    path("organise/<slug:slug>/api/", tokens.api_tokens, name="tokens"),
    path("organise/<slug:slug>/api/<int:token_id>/revoke/", tokens.api_token_revoke_view, name="token_revoke"),
    path("organise/<slug:slug>/webhooks/", webhooks.webhooks, name="webhooks"),
    path("organise/<slug:slug>/webhooks/<int:endpoint_id>/", webhooks.webhook_log, name="webhook_log"),
    path("organise/<slug:slug>/webhooks/<int:endpoint_id>/switch/", webhooks.webhook_switch, name="webhook_switch"),
    path("organise/<slug:slug>/webhooks/<int:endpoint_id>/remove/", webhooks.webhook_delete, name="webhook_delete"),
    path(
        "organise/<slug:slug>/webhooks/<int:endpoint_id>/resend/<int:delivery_id>/",
        webhooks.webhook_resend,
        name="webhook_resend",
    ),
]
