from django.urls import path

from petitions.views import organise, public, signing

app_name = "petitions"
urlpatterns = [
    path("petitions/", public.petition_list, name="list"),
    path("your-data/", signing.my_data, name="my_data"),
    path("your-data/erase/<str:token>/", signing.my_data_erase, name="my_data_erase"),
    path("petitions/confirm/<str:token>/", signing.signature_confirm, name="signature_confirm"),
    path("petitions/withdraw/<str:token>/", signing.signature_withdraw, name="signature_withdraw"),
    path("petitions/<slug:slug>/", public.petition_detail, name="detail"),
    path("petitions/<slug:slug>/sign/", signing.petition_sign, name="sign"),
    path("petitions/<slug:slug>/thanks/", signing.petition_thanks, name="thanks"),
    path("petitions/<slug:slug>/resend/", signing.signature_resend, name="resend"),
    path("petitions/<slug:slug>/revisions/", public.petition_revisions, name="revisions"),
    path("organise/", organise.organise_index, name="organise_index"),
    path("organise/new/", organise.organise_new, name="organise_new"),
    path("organise/invitations/<str:token>/", organise.organise_invitation, name="organise_invitation"),
    path("organise/<slug:slug>/", organise.organise_dashboard, name="organise_dashboard"),
    path("organise/<slug:slug>/edit/", organise.organise_edit, name="organise_edit"),
    path("organise/<slug:slug>/state/", organise.organise_transition, name="organise_transition"),
    path("organise/<slug:slug>/invalidate/", organise.organise_invalidate, name="organise_invalidate"),
    path("organise/<slug:slug>/members/", organise.organise_members, name="organise_members"),
]  # fmt: skip
