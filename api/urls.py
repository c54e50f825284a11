from django.urls import path

from api.views import docs, tokens

app_name = "api"

urlpatterns = [
    path("api/v1/docs/", docs.api_docs, name="docs"),
    path("organise/<slug:slug>/api/", tokens.api_tokens, name="tokens"),
    path("organise/<slug:slug>/api/<int:token_id>/revoke/", tokens.api_token_revoke_view, name="token_revoke"),
]
