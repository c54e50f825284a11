from django.urls import path

from core.pagecache import shared_page
from petitions import feeds
from petitions.views import organise, public, review, signing, subscriptions, updates

updates_rss, updates_atom = shared_page()(feeds.PetitionUpdatesFeed()), shared_page()(feeds.PetitionUpdatesAtomFeed())

app_name = "petitions"
urlpatterns = [
    path("petitions/", public.petition_list, name="list"),
    path("your-data/", signing.my_data, name="my_data"),
    path("your-data/erase/<str:token>/", signing.my_data_erase, name="my_data_erase"),
    path("unsubscribe/<str:token>/", subscriptions.unsubscribe, name="unsubscribe"),
    path("subscriptions/<str:token>/", subscriptions.subscriptions_page, name="subscriptions"),
    path("petitions/confirm/<str:token>/", signing.signature_confirm, name="signature_confirm"),
    path("petitions/withdraw/<str:token>/", signing.signature_withdraw, name="signature_withdraw"),
    path("petitions/<slug:slug>/", public.petition_detail, name="detail"),
    path("petitions/<slug:slug>/sign/", signing.petition_sign, name="sign"),
    path("petitions/<slug:slug>/thanks/", signing.petition_thanks, name="thanks"),
    path("petitions/<slug:slug>/resend/", signing.signature_resend, name="resend"),
    path("petitions/<slug:slug>/revisions/", public.petition_revisions, name="revisions"),
    path("petitions/<slug:slug>/updates/", updates.petition_updates, name="updates"),
    path("petitions/<slug:slug>/response.pdf", updates.petition_response_document, name="response_document"),
    path("petitions/<slug:slug>/updates/rss/", updates_rss, name="updates_rss"),
    path("petitions/<slug:slug>/updates/atom/", updates_atom, name="updates_atom"),
    path("petitions/<slug:slug>/updates/<int:number>/", updates.petition_update, name="update"),
    path("organise/", organise.organise_index, name="organise_index"),
    path("organise/new/", organise.organise_new, name="organise_new"),
    path("organise/invitations/<str:token>/", organise.organise_invitation, name="organise_invitation"),
    path("organise/rules/", review.organise_rules_everywhere, name="organise_rules_everywhere"),
    path("organise/rules/<int:rule_id>/", review.organise_rule_everywhere, name="organise_rule_everywhere"),
    path("organise/rules/<int:rule_id>/remove/", review.organise_rule_remove_everywhere,
         name="organise_rule_remove_everywhere"),  # fmt: skip
    path("organise/<slug:slug>/", organise.organise_dashboard, name="organise_dashboard"),
    path("organise/<slug:slug>/edit/", organise.organise_edit, name="organise_edit"),
    path("organise/<slug:slug>/state/", organise.organise_transition, name="organise_transition"),
    path("organise/<slug:slug>/invalidate/", organise.organise_invalidate, name="organise_invalidate"),
    path("organise/<slug:slug>/members/", organise.organise_members, name="organise_members"),
    path("organise/<slug:slug>/rules/", review.organise_rules, name="organise_rules"),
    path("organise/<slug:slug>/rules/<int:rule_id>/", review.organise_rule, name="organise_rule"),
    path("organise/<slug:slug>/rules/<int:rule_id>/remove/", review.organise_rule_remove, name="organise_rule_remove"),
    path("organise/<slug:slug>/held/", review.organise_held, name="organise_held"),
    path("organise/<slug:slug>/invalidations/", review.organise_invalidations, name="organise_invalidations"),
    path("organise/<slug:slug>/invalidations/<int:job_id>/", review.organise_invalidation,
         name="organise_invalidation"),  # fmt: skip
    path("organise/<slug:slug>/invalidations/<int:job_id>/progress/", review.organise_invalidation_progress,
         name="organise_invalidation_progress"),  # fmt: skip
    path("organise/<slug:slug>/outcome/", updates.organise_outcome, name="organise_outcome"),
    path("organise/<slug:slug>/updates/", updates.organise_updates, name="organise_updates"),
    path("organise/<slug:slug>/updates/<int:number>/", updates.organise_update, name="organise_update"),
    path("organise/<slug:slug>/updates/<int:number>/act/", updates.organise_update_action,
         name="organise_update_action"),
    path("organise/<slug:slug>/updates/<int:number>/mailing/", updates.organise_update_mailing,
         name="organise_update_mailing"),
]  # fmt: skip
