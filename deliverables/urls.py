from django.urls import path

from deliverables.views import delivery, letters

app_name = "deliverables"
urlpatterns = [
    path("petitions/letters/confirm/<str:token>/", letters.signon_confirm_view, name="signon_confirm"),
    path("petitions/delivered/<str:token>/", delivery.delivery_file, name="delivery_file"),
    path("petitions/<slug:slug>/letters/<slug:letter_slug>/", letters.letter_detail, name="letter_detail"),
    path("organise/<slug:slug>/letters/", letters.organise_letters, name="organise_letters"),
    path("organise/<slug:slug>/letters/<slug:letter_slug>/", letters.organise_letter, name="organise_letter"),
    path("organise/<slug:slug>/letters/<slug:letter_slug>/signons/<int:signon_id>/review/",
         letters.organise_signon_review, name="organise_signon_review"),
    path("organise/<slug:slug>/letters/<slug:letter_slug>/signons/<int:signon_id>/proof/",
         letters.organise_signon_proof, name="organise_signon_proof"),
    path("organise/<slug:slug>/letters/<slug:letter_slug>/compile/", letters.organise_letter_compile,
         name="organise_letter_compile"),
    path("organise/<slug:slug>/compiles/<int:compile_id>/progress/", letters.organise_compile_progress,
         name="organise_compile_progress"),
    path("organise/<slug:slug>/compiles/<int:compile_id>/download/", letters.organise_compile_download,
         name="organise_compile_download"),
    path("organise/<slug:slug>/packets/", delivery.organise_packets, name="organise_packets"),
    path("organise/<slug:slug>/packets/<int:export_id>/progress/", delivery.organise_packet_progress,
         name="organise_packet_progress"),
    path("organise/<slug:slug>/packets/<int:export_id>/download/", delivery.organise_packet_download,
         name="organise_packet_download"),
    path("organise/<slug:slug>/delivery/", delivery.organise_delivery, name="organise_delivery"),
]  # fmt: skip
