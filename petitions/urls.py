from django.urls import path

from petitions import views

app_name = "petitions"
urlpatterns = [
    path("petitions/", views.petition_list, name="list"),
    path("your-data/", views.my_data, name="my_data"),
    path("your-data/erase/<str:token>/", views.my_data_erase, name="my_data_erase"),
    path("petitions/confirm/<str:token>/", views.signature_confirm, name="signature_confirm"),
    path("petitions/withdraw/<str:token>/", views.signature_withdraw, name="signature_withdraw"),
    path("petitions/<slug:slug>/", views.petition_detail, name="detail"),
    path("petitions/<slug:slug>/sign/", views.petition_sign, name="sign"),
    path("petitions/<slug:slug>/thanks/", views.petition_thanks, name="thanks"),
    path("petitions/<slug:slug>/resend/", views.signature_resend, name="resend"),
    path("petitions/<slug:slug>/revisions/", views.petition_revisions, name="revisions"),
    path("organise/", views.organise_index, name="organise_index"),
    path("organise/new/", views.organise_new, name="organise_new"),
    path("organise/invitations/<str:token>/", views.organise_invitation, name="organise_invitation"),
    path("organise/<slug:slug>/", views.organise_dashboard, name="organise_dashboard"),
    path("organise/<slug:slug>/edit/", views.organise_edit, name="organise_edit"),
    path("organise/<slug:slug>/state/", views.organise_transition, name="organise_transition"),
    path("organise/<slug:slug>/invalidate/", views.organise_invalidate, name="organise_invalidate"),
    path("organise/<slug:slug>/members/", views.organise_members, name="organise_members"),
]  # fmt: skip
