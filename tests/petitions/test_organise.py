"""Organisers' pages: per-petition rights with a second factor; dashboard, lifecycle buttons, invalidation, members."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import EDITORS, MODERATORS, ORGANISERS
from petitions.models import MembershipRole, Petition, PetitionMembership, PetitionStatus
from signatures.models import SignatureInvalidation, SignatureState
from signatures.services.counts import signature_counts_flush
from tests.factories import PublishedArticleFactory, VerifiedUserFactory, staff_user, totp_enable
from tests.petitions.factories import (
    ConfirmedSignatureFactory,
    MembershipFactory,
    OpenPetitionFactory,
    PendingSignatureFactory,
)

pytestmark = pytest.mark.django_db


def _member(petition, role=MembershipRole.OWNER):
    user = staff_user(ORGANISERS)
    MembershipFactory(petition=petition, user=user, role=role)
    return user


def test_organiser_starts_a_petition_and_becomes_its_owner(client):
    user = staff_user(ORGANISERS)
    client.force_login(user)
    data = {"title": "Free the data", "slug": "free-the-data", "target_name": "The Minister", "ask": "Publish it.",
            "body": "<p>Because.</p><script>x()</script>", "goal": "500"}  # fmt: skip
    response = client.post(reverse("petitions:organise_new"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    petition = Petition.objects.get(slug="free-the-data")
    assert petition.status == PetitionStatus.DRAFT and "<script>" not in petition.body
    assert PetitionMembership.objects.get(petition=petition).role == MembershipRole.OWNER
    assert client.get(petition.get_absolute_url()).status_code == 404  # drafts are not public

    client.post(reverse("petitions:organise_transition", args=[petition.slug]), {"move": "open"})
    petition.refresh_from_db()
    assert petition.status == PetitionStatus.OPEN and petition.opened_at
    response = client.post(reverse("petitions:organise_transition", args=[petition.slug]), {"move": "deliver"},
                           follow=True)  # fmt: skip
    assert "only a closed petition can be marked delivered" in response.content.decode()


@pytest.mark.parametrize("who", ["reader", "moderator", "editor", "other organiser"])
def test_people_without_a_membership_see_nothing(client, petition, who):
    user = {
        "reader": lambda: VerifiedUserFactory(),
        "moderator": lambda: staff_user(MODERATORS),
        "editor": lambda: staff_user(EDITORS),
        "other organiser": lambda: _member(OpenPetitionFactory()),
    }[who]()
    client.force_login(user)
    for name in ("organise_dashboard", "organise_edit", "organise_members"):
        assert client.get(reverse(f"petitions:{name}", args=[petition.slug])).status_code in (403, 404)
    response = client.post(reverse("petitions:organise_transition", args=[petition.slug]), {"move": "close"})
    assert response.status_code in (403, 404)
    if who != "other organiser":  # the Organisers role may start petitions of its own
        assert client.get(reverse("petitions:organise_new")).status_code == 403
    petition.refresh_from_db()
    assert petition.status == PetitionStatus.OPEN


def test_a_member_without_a_second_factor_is_sent_to_set_one_up(client, petition):
    user = VerifiedUserFactory()
    MembershipFactory(petition=petition, user=user, role=MembershipRole.VIEWER)
    client.force_login(user)
    response = client.get(reverse("petitions:organise_dashboard", args=[petition.slug]))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


def test_anonymous_visitors_are_asked_to_sign_in(client, petition):
    response = client.get(reverse("petitions:organise_dashboard", args=[petition.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_viewer_reads_the_dashboard_but_cannot_edit_or_move_it(client, petition):
    client.force_login(_member(petition, MembershipRole.VIEWER))
    assert client.get(reverse("petitions:organise_dashboard", args=[petition.slug])).status_code == 200
    assert client.get(reverse("petitions:organise_edit", args=[petition.slug])).status_code == 403
    assert (
        client.post(reverse("petitions:organise_transition", args=[petition.slug]), {"move": "close"}).status_code
        == 403
    )


def test_dashboard_shows_totals_sources_and_recent_with_constant_queries(
    client, petition, django_assert_max_num_queries
):
    client.force_login(_member(petition))
    for _ in range(3):
        ConfirmedSignatureFactory(petition=petition, utm_source="newsletter", referrer_host="news.example.net")
    PendingSignatureFactory(petition=petition)
    signature_counts_flush()
    url = reverse("petitions:organise_dashboard", args=[petition.slug])
    with django_assert_max_num_queries(30) as few:
        response = client.get(url)
    html = response.content.decode()
    assert "newsletter" in html and "news.example.net" in html and "Waiting for confirmation" in html
    for i in range(40):
        ConfirmedSignatureFactory(petition=petition, country="FR", utm_source=f"s{i}", referrer_host=f"r{i}.example")
    signature_counts_flush()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
    assert client.get(url + "?page=2").status_code == 200


def test_a_burst_is_flagged_and_invalidated_with_a_reason_and_the_count_follows(client, petition, settings):
    settings.VIGIL_SIGNATURE_BURST_THRESHOLD = 5
    user = _member(petition, MembershipRole.ORGANISER)
    client.force_login(user)
    for _ in range(6):
        ConfirmedSignatureFactory(petition=petition, ip_hash="f" * 64, email_domain="example.org")
    ConfirmedSignatureFactory(petition=petition, ip_hash="0" * 64, email_domain="other.example")
    signature_counts_flush()
    html = client.get(reverse("petitions:organise_dashboard", args=[petition.slug])).content.decode()
    assert "ffffffffffff…" in html and "domain example.org" in html
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    form = {
        "kind": "ip",
        "value": "f" * 64,
        "since": hour.isoformat(),
        "until": (hour + timedelta(hours=1)).isoformat(),
    }
    response = client.post(reverse("petitions:organise_invalidate", args=[petition.slug]), {**form, "reason": ""})
    assert SignatureInvalidation.objects.count() == 0
    response = client.post(
        reverse("petitions:organise_invalidate", args=[petition.slug]), {**form, "reason": "One script, one address"},
        follow=True,
    )  # fmt: skip
    assert "6 signature(s) set aside" in response.content.decode()
    invalidation = SignatureInvalidation.objects.get()
    assert invalidation.created_by == user and invalidation.reason == "One script, one address"
    assert petition.signatures.filter(state=SignatureState.INVALIDATED).count() == 6
    signature_counts_flush()
    petition.tally.refresh_from_db()
    assert petition.tally.confirmed == 1


def _invitation_link() -> str:
    import re

    from core.models import OutboundEmail

    row = OutboundEmail.objects.filter(subject__contains="invited to organise").latest("pk")
    return re.search(r"https?://[^/\s]+(/organise/invitations/\S+/)", row.body_text).group(1)


def test_owner_invites_members_who_join_on_accepting_and_keeps_one_owner(client, petition):
    owner = _member(petition)
    client.force_login(owner)
    colleague = VerifiedUserFactory(email="colleague@example.org")
    url = reverse("petitions:organise_members", args=[petition.slug])
    client.post(url, {"email": "Colleague@example.org", "role": "viewer"})
    assert not PetitionMembership.objects.filter(user=colleague).exists()  # not before they accept
    link = _invitation_link()
    other = Client()
    other.force_login(colleague)
    assert other.get(link).status_code == 200
    assert other.post(link).status_code == 302
    membership = PetitionMembership.objects.get(user=colleague)
    assert membership.role == "viewer"
    assert other.post(link).status_code == 410  # used
    client.post(url, {"remove": membership.pk})
    assert not PetitionMembership.objects.filter(user=colleague).exists()
    own = PetitionMembership.objects.get(user=owner)
    response = client.post(url, {"remove": own.pk}, follow=True)
    assert "at least one owner" in response.content.decode()


def test_inviting_never_says_whether_an_account_has_the_address(client, petition):
    client.force_login(_member(petition))
    VerifiedUserFactory(email="member@example.org")
    url = reverse("petitions:organise_members", args=[petition.slug])
    answers = [client.post(url, {"email": email, "role": "viewer"}, follow=True)
               for email in ("member@example.org", "nobody@example.org")]  # fmt: skip
    assert [answer.status_code for answer in answers] == [200, 200]
    texts = [answer.content.decode().replace(email, "X") for answer, email in
             zip(answers, ("member@example.org", "nobody@example.org"), strict=True)]  # fmt: skip
    assert "No account" not in texts[0] + texts[1]
    assert "Invitation sent to X" in texts[0] and "Invitation sent to X" in texts[1]


def test_an_invitation_joins_only_the_account_with_the_invited_address(client, petition):
    client.force_login(_member(petition))
    client.post(reverse("petitions:organise_members", args=[petition.slug]),
                {"email": "invited@example.org", "role": "organiser"})  # fmt: skip
    link = _invitation_link()
    stranger = Client()
    stranger.force_login(VerifiedUserFactory(email="someone.else@example.org"))
    answer = stranger.post(link)
    assert answer.status_code == 410 and "another e-mail address" in answer.content.decode()
    assert PetitionMembership.objects.filter(petition=petition).count() == 1
    anonymous = Client().get(link)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_old_or_damaged_invitations_do_nothing_and_are_swept(client, petition, time_machine, settings):
    from datetime import timedelta

    from django.utils import timezone

    from core.privacy import privacy_sweep
    from petitions.models import PetitionInvitation

    start = timezone.now()
    time_machine.move_to(start, tick=False)
    client.force_login(_member(petition))
    client.post(reverse("petitions:organise_members", args=[petition.slug]),
                {"email": "late@example.org", "role": "viewer"})  # fmt: skip
    link = _invitation_link()
    invitee, account = Client(), VerifiedUserFactory(email="late@example.org")
    invitee.force_login(account)
    assert invitee.post(link[:-3] + "xx/").status_code == 410
    time_machine.move_to(start + timedelta(days=settings.VIGIL_INVITATION_MAX_AGE_DAYS + 1), tick=False)
    invitee.force_login(account)  # a fresh sign-in: the old session has run out too
    assert invitee.post(link).status_code == 410
    privacy_sweep()
    assert not PetitionInvitation.objects.exists()


def test_article_shows_its_petition_box_and_home_features_the_biggest_open_petition(client, petition):
    for _ in range(2):
        ConfirmedSignatureFactory(petition=petition)
    signature_counts_flush()
    cache.clear()
    article = PublishedArticleFactory(related_petition=petition)
    html = client.get(article.get_absolute_url()).content.decode()
    assert petition.title in html and "Sign the petition" in html and 'value="2"' in html
    home = client.get("/").content.decode()
    assert petition.title in home and "Sign the petition" in home
    assert article.title in client.get(petition.get_absolute_url()).content.decode()


def test_admin_finds_a_signature_by_any_spelling_of_the_address_and_masks_it_in_lists(client, petition, admin_user):
    totp_enable(admin_user)
    admin_client = client
    admin_client.force_login(admin_user)
    ConfirmedSignatureFactory(petition=petition, email="Ann.Smith@gmail.com", canonical_email="annsmith@gmail.com")
    ConfirmedSignatureFactory(petition=petition, email="bob@example.org", canonical_email="bob@example.org")
    html = admin_client.get("/admin/signatures/signature/?q=ANN.SMITH%2Bpetitions@googlemail.com").content.decode()
    assert "A•••@g•••.com" in html and "1 result" in html
    assert "Ann.Smith@gmail.com" not in html and "bob" not in html
    assert admin_client.get("/admin/petitions/petition/").status_code == 200
    assert admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").status_code == 200
