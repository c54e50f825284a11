from django.urls import path

from petitions import views, views_delivery, views_letters

app_name = "petitions"
urlpatterns = [
    path("petitions/", views.petition_list, name="list"),
    path("petitions/confirm/<str:token>/", views.signature_confirm, name="signature_confirm"),
    path("petitions/withdraw/<str:token>/", views.signature_withdraw, name="signature_withdraw"),
    path("petitions/<slug:slug>/", views.petition_detail, name="detail"),
    path("petitions/<slug:slug>/sign/", views.petition_sign, name="sign"),
    path("petitions/<slug:slug>/thanks/", views.petition_thanks, name="thanks"),
    path("petitions/<slug:slug>/resend/", views.signature_resend, name="resend"),
    path("petitions/<slug:slug>/revisions/", views.petition_revisions, name="revisions"),
    path("organise/", views.organise_index, name="organise_index"),
    path("organise/new/", views.organise_new, name="organise_new"),
    path("organise/<slug:slug>/", views.organise_dashboard, name="organise_dashboard"),
    path("organise/<slug:slug>/edit/", views.organise_edit, name="organise_edit"),
    path("organise/<slug:slug>/state/", views.organise_transition, name="organise_transition"),
    path("organise/<slug:slug>/invalidate/", views.organise_invalidate, name="organise_invalidate"),
    path("organise/<slug:slug>/members/", views.organise_members, name="organise_members"),
    # Deliverables: sign-on letters, packets, deliveries.
    path("petitions/letters/confirm/<str:token>/", views_letters.signon_confirm_view, name="signon_confirm"),
    path("petitions/delivered/<str:token>/", views_delivery.delivery_file, name="delivery_file"),
    path("petitions/<slug:slug>/letters/<slug:letter_slug>/", views_letters.letter_detail, name="letter_detail"),
    path("organise/<slug:slug>/letters/", views_letters.organise_letters, name="organise_letters"),
    path("organise/<slug:slug>/letters/<slug:letter_slug>/", views_letters.organise_letter, name="organise_letter"),
    path("organise/<slug:slug>/letters/<slug:letter_slug>/signons/<int:signon_id>/review/",
         views_letters.organise_signon_review, name="organise_signon_review"),
    path("organise/<slug:slug>/letters/<slug:letter_slug>/signons/<int:signon_id>/proof/",
         views_letters.organise_signon_proof, name="organise_signon_proof"),
    path("organise/<slug:slug>/letters/<slug:letter_slug>/compile/", views_letters.organise_letter_compile,
         name="organise_letter_compile"),
    path("organise/<slug:slug>/compiles/<int:compile_id>/progress/", views_letters.organise_compile_progress,
         name="organise_compile_progress"),
    path("organise/<slug:slug>/compiles/<int:compile_id>/download/", views_letters.organise_compile_download,
         name="organise_compile_download"),
    path("organise/<slug:slug>/packets/", views_delivery.organise_packets, name="organise_packets"),
    path("organise/<slug:slug>/packets/<int:export_id>/progress/", views_delivery.organise_packet_progress,
         name="organise_packet_progress"),
    path("organise/<slug:slug>/packets/<int:export_id>/download/", views_delivery.organise_packet_download,
         name="organise_packet_download"),
    path("organise/<slug:slug>/delivery/", views_delivery.organise_delivery, name="organise_delivery"),
]  # fmt: skip
