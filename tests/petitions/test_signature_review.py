"""The organisers' fraud tools: rule pages (a petition's and staff's), held signatures, and invalidation jobs by
criteria (counted first, run in batches, stopped, reversed), with the counts following through the flush."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import ORGANISERS
from petitions.models import MembershipRole
from signatures.models import (
    InvalidationState,
    RuleKind,
    SignatureInvalidation,
    SignatureRule,
    SignatureRuleChange,
    SignatureState,
)
from signatures.services import review, rules
from signatures.services.counts import signature_counts_flush
from tests.factories import staff_user, totp_enable
from tests.petitions.factories import ConfirmedSignatureFactory, MembershipFactory, PendingSignatureFactory

pytestmark = pytest.mark.django_db


def _member(petition, role=MembershipRole.OWNER):
    user = staff_user(ORGANISERS)
    MembershipFactory(petition=petition, user=user, role=role)
    return user


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _run(job) -> None:
    while review.invalidation_step(job_id=job.pk):
        pass
    job.refresh_from_db()


def test_an_organiser_adds_and_removes_rules_on_the_page_and_each_change_is_on_record(petition):
    user = _member(petition, MembershipRole.ORGANISER)
    client = _client(user)
    url = reverse("petitions:organise_rules", args=[petition.slug])
    assert "No rules yet" in client.get(url).content.decode()
    response = client.post(url, {"kind": "domain", "value": "Burner.Example", "action": "mark", "note": "a farm"})
    assert response.status_code == 302
    rule = SignatureRule.objects.get()
    assert (rule.petition, rule.value, rule.action, rule.created_by) == (petition, "burner.example", "mark", user)
    html = client.get(url).content.decode()
    assert "burner.example" in html and "a farm" in html

    response = client.post(url, {"kind": "ip_range", "value": "300.1.2.3", "action": "refuse"})
    assert response.status_code == 400 and "CIDR form" in response.content.decode()
    response = client.post(url, {"kind": "domain", "value": "burner.example", "action": "refuse"})
    assert response.status_code == 400 and "already a rule" in response.content.decode()
    response = client.post(url, {"kind": "country_limit", "value": "FR", "action": "allow", "limit": "3"})
    assert response.status_code == 400 and "Only networks, domains and addresses" in response.content.decode()

    client.post(reverse("petitions:organise_rule_remove", args=[petition.slug, rule.pk]))
    rule.refresh_from_db()
    assert rule.removed_at is not None
    assert list(SignatureRuleChange.objects.order_by("pk").values_list("change", flat=True)) == ["added", "removed"]
    assert "removed" in client.get(url).content.decode()


def test_viewers_read_the_rules_but_cannot_change_them_and_other_petitions_rules_are_not_theirs(petition):
    from tests.petitions.factories import OpenPetitionFactory

    viewer = _member(petition, MembershipRole.VIEWER)
    client = _client(viewer)
    url = reverse("petitions:organise_rules", args=[petition.slug])
    assert client.get(url).status_code == 200
    assert client.post(url, {"kind": "domain", "value": "x.example", "action": "mark"}).status_code == 403
    other = OpenPetitionFactory()
    foreign = rules.signature_rule_add(petition=other, by=None, kind="domain", action="mark", value="y.example")
    organiser = _member(petition, MembershipRole.ORGANISER)
    response = _client(organiser).post(reverse("petitions:organise_rule_remove", args=[petition.slug, foreign.pk]))
    assert response.status_code == 404
    assert SignatureRule.objects.get(pk=foreign.pk).removed_at is None


def test_rules_for_every_petition_are_kept_by_staff_only(petition, admin_user):
    url = reverse("petitions:organise_rules_everywhere")
    organiser = _member(petition)
    assert _client(organiser).get(url).status_code == 403
    totp_enable(admin_user)
    client = _client(admin_user)
    response = client.post(url, {"kind": "disposable", "value": "", "action": "refuse", "note": "throwaway inboxes"})
    assert response.status_code == 302
    rule = SignatureRule.objects.get()
    assert rule.petition is None and rule.kind == RuleKind.DISPOSABLE
    assert "any disposable e-mail domain" in client.get(url).content.decode()


def test_the_dashboard_and_the_held_page_show_held_signatures_and_counting_one_moves_the_count(petition):
    user = _member(petition, MembershipRole.ORGANISER)
    rule = rules.signature_rule_add(petition=petition, by=user, kind="domain", action="mark", value="burner.example")
    held = ConfirmedSignatureFactory(
        petition=petition, state=SignatureState.HELD, marked=True, marked_by_rule=rule, email_domain="burner.example"
    )
    ConfirmedSignatureFactory(petition=petition)
    signature_counts_flush()
    client = _client(user)
    dashboard = client.get(reverse("petitions:organise_dashboard", args=[petition.slug])).content.decode()
    assert "Held for review" in dashboard
    page = client.get(reverse("petitions:organise_held", args=[petition.slug])).content.decode()
    assert "1 signature held" in page and "burner.example" in page
    response = client.post(
        reverse("petitions:organise_held", args=[petition.slug]), {"signature": held.pk}, follow=True
    )
    assert "Counted" in response.content.decode()
    held.refresh_from_db()
    assert held.state == SignatureState.CONFIRMED and held.reviewed_by == user
    signature_counts_flush()
    petition.tally.refresh_from_db()
    assert petition.tally.confirmed == 2
    response = client.post(
        reverse("petitions:organise_held", args=[petition.slug]), {"signature": held.pk}, follow=True
    )
    assert "no longer held" in response.content.decode()


def test_a_job_is_counted_first_run_in_batches_and_reversed_with_the_counts_following(petition, settings):
    settings.VIGIL_INVALIDATION_BATCH = 3
    user = _member(petition, MembershipRole.ORGANISER)
    client = _client(user)
    bad = [ConfirmedSignatureFactory(petition=petition, email_domain="farm.example") for _ in range(7)]
    bad.append(ConfirmedSignatureFactory(petition=petition, email_domain="mx.farm.example"))
    bad.append(PendingSignatureFactory(petition=petition, email_domain="farm.example"))
    ConfirmedSignatureFactory(petition=petition, email_domain="example.org")
    ConfirmedSignatureFactory(petition=petition, email_domain="notfarm.example")
    signature_counts_flush()
    petition.tally.refresh_from_db()
    assert petition.tally.confirmed == 10

    url = reverse("petitions:organise_invalidations", args=[petition.slug])
    response = client.post(url, {"domain": "farm.example", "reason": ""})
    assert response.status_code == 400
    response = client.post(url, {"reason": "nothing chosen"})
    assert response.status_code == 400 and "Choose at least" in response.content.decode()
    response = client.post(url, {"domain": "farm.example", "reason": "One sign-up farm"})
    job = SignatureInvalidation.objects.get()
    assert response.status_code == 302 and job.state == InvalidationState.COUNTED and job.matched == 9
    page = client.get(reverse("petitions:organise_invalidation", args=[petition.slug, job.pk])).content.decode()
    assert "Set aside 9 signatures" in page and "mx.farm.example" in page
    assert petition.signatures.filter(state=SignatureState.INVALIDATED).count() == 0  # a dry run changes nothing

    client.post(reverse("petitions:organise_invalidation", args=[petition.slug, job.pk]), {"move": "run"})
    job.refresh_from_db()
    assert job.state == InvalidationState.RUNNING
    assert review.invalidation_step(job_id=job.pk)  # one batch of three, more to come
    job.refresh_from_db()
    assert job.signature_count == 3
    progress = client.get(reverse("petitions:organise_invalidation_progress", args=[petition.slug, job.pk])).json()
    assert progress["active"] and progress["set_aside"] == 3 and progress["matched"] == 9
    _run(job)
    assert job.state == InvalidationState.DONE and job.signature_count == 9
    signature_counts_flush()
    petition.tally.refresh_from_db()
    assert petition.tally.confirmed == 2
    assert not review.invalidation_step(job_id=job.pk)  # a re-run does nothing

    client.post(reverse("petitions:organise_invalidation", args=[petition.slug, job.pk]), {"move": "reverse"})
    _run(job)
    assert job.state == InvalidationState.REVERSED and job.restored_count == 9 and job.reversed_by == user
    states = dict(petition.signatures.filter(pk__in=[row.pk for row in bad[-2:]]).values_list("pk", "state"))
    assert states == {bad[-2].pk: SignatureState.CONFIRMED, bad[-1].pk: SignatureState.PENDING}
    signature_counts_flush()
    petition.tally.refresh_from_db()
    assert petition.tally.confirmed == 10


def test_a_stopped_job_keeps_what_it_did_and_can_be_reversed(petition, settings):
    settings.VIGIL_INVALIDATION_BATCH = 2
    user = _member(petition, MembershipRole.ORGANISER)
    for _ in range(6):
        ConfirmedSignatureFactory(petition=petition, country="FR")
    criteria = review.criteria_clean(country="FR")
    job = review.invalidation_count(petition=petition, by=user, reason="a bot from one country", criteria=criteria)
    review.invalidation_start(job=job, by=user)
    review.invalidation_step(job_id=job.pk)
    assert review.invalidation_cancel(job=job, by=user)
    assert not review.invalidation_step(job_id=job.pk)  # the next batch finds it stopped
    job.refresh_from_db()
    assert job.state == InvalidationState.CANCELLED and job.signature_count == 2 and job.cancelled_by == user
    with pytest.raises(review.ReviewError):
        review.invalidation_start(job=job, by=user)
    review.invalidation_reverse(job=job, by=user)
    _run(job)
    assert petition.signatures.filter(state=SignatureState.CONFIRMED).count() == 6


def test_a_job_leaves_signatures_made_after_it_started_and_other_petitions_alone(petition, settings):
    from tests.petitions.factories import OpenPetitionFactory

    user = _member(petition, MembershipRole.ORGANISER)
    other = OpenPetitionFactory()
    ConfirmedSignatureFactory(petition=petition, email_domain="farm.example")
    elsewhere = ConfirmedSignatureFactory(petition=other, email_domain="farm.example")
    job = review.invalidation_count(
        petition=petition, by=user, reason="farm", criteria=review.criteria_clean(domain="farm.example")
    )
    review.invalidation_start(job=job, by=user)
    later = ConfirmedSignatureFactory(petition=petition, email_domain="farm.example")
    _run(job)
    assert job.signature_count == 1
    later.refresh_from_db()
    elsewhere.refresh_from_db()
    assert later.state == SignatureState.CONFIRMED and elsewhere.state == SignatureState.CONFIRMED


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"name": "bot*"}, {"Botty Mc"}),
        ({"name": "* mc"}, {"Botty Mc"}),
        ({"name": "ANN"}, {"Ann Lee"}),
        ({"ip_hash": "abcdef"}, {"Ann Lee"}),
        ({"rule": "held"}, {"Held One"}),
        ({"country": "DE"}, {"Held One"}),
    ],
)
def test_each_criterion_selects_what_it_says(petition, criteria, expected):
    rule = rules.signature_rule_add(petition=petition, by=None, kind="domain", action="mark", value="h.example")
    ConfirmedSignatureFactory(petition=petition, first_name="Botty", last_name="Mc", country="GB")
    ConfirmedSignatureFactory(petition=petition, first_name="Ann", last_name="Lee", ip_hash="abcdef" + "0" * 58)
    ConfirmedSignatureFactory(
        petition=petition, first_name="Held", last_name="One", country="DE", state=SignatureState.HELD, marked=True,
        marked_by_rule=rule,
    )  # fmt: skip
    if criteria.get("rule") == "held":
        criteria = {"rule": rule.pk}
    found = review.signatures_matching(petition=petition, criteria=review.criteria_clean(**criteria))
    assert {f"{row.first_name} {row.last_name}" for row in found} == expected


def test_a_job_of_held_signatures_restores_them_as_held(petition):
    user = _member(petition, MembershipRole.ORGANISER)
    rule = rules.signature_rule_add(petition=petition, by=user, kind="domain", action="mark", value="h.example")
    held = ConfirmedSignatureFactory(petition=petition, state=SignatureState.HELD, marked=True, marked_by_rule=rule)
    job = review.invalidation_count(
        petition=petition, by=user, reason="held by the farm rule", criteria=review.criteria_clean(rule=rule.pk)
    )
    review.invalidation_start(job=job, by=user)
    _run(job)
    held.refresh_from_db()
    assert held.state == SignatureState.INVALIDATED and held.invalidation == job
    review.invalidation_reverse(job=job, by=user)
    _run(job)
    held.refresh_from_db()
    assert held.state == SignatureState.HELD and held.invalidation is None


def test_a_job_whose_worker_died_is_queued_again_by_the_sweep(petition, settings, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    user = _member(petition, MembershipRole.ORGANISER)
    ConfirmedSignatureFactory(petition=petition, country="FR")
    job = review.invalidation_count(
        petition=petition, by=user, reason="x", criteria=review.criteria_clean(country="FR")
    )
    review.invalidation_start(job=job, by=user)
    assert review.invalidations_sweep() == 0  # fresh
    later = timezone.now() + timedelta(seconds=settings.VIGIL_INVALIDATION_STALE_SECONDS + 1)
    assert review.invalidations_sweep(now=later) == 1


def test_the_admin_lists_rules_with_their_audit_and_jobs_read_only(petition, admin_user):
    rule = rules.signature_rule_add(petition=petition, by=admin_user, kind="domain", action="mark", value="a.example")
    review.invalidation_count(
        petition=petition, by=admin_user, reason="x", criteria=review.criteria_clean(rule=rule.pk)
    )
    totp_enable(admin_user)
    client = _client(admin_user)
    assert "a.example" in client.get(reverse("admin:signatures_signaturerule_changelist")).content.decode()
    detail = client.get(reverse("admin:signatures_signaturerule_change", args=[rule.pk])).content.decode()
    assert "added" in detail
    assert client.get(reverse("admin:signatures_signatureinvalidation_changelist")).status_code == 200
    assert client.get(reverse("admin:signatures_signaturerule_add")).status_code == 403


def test_all_signatures_one_rule_held_are_counted_at_once_with_their_events(petition):
    from core.models import Event, EventKind
    from petitions.models import Petition

    Petition.objects.filter(pk=petition.pk).update(sends_events=True)
    user = _member(petition, MembershipRole.ORGANISER)
    farm = rules.signature_rule_add(petition=petition, by=user, kind="domain", action="mark", value="farm.example")
    other = rules.signature_rule_add(petition=petition, by=user, kind="domain", action="mark", value="other.example")
    held = [
        ConfirmedSignatureFactory(petition=petition, state=SignatureState.HELD, marked=True, marked_by_rule=farm)
        for _ in range(2)
    ]
    waiting = PendingSignatureFactory(petition=petition, marked=True, marked_by_rule=farm)
    elsewhere = ConfirmedSignatureFactory(
        petition=petition, state=SignatureState.HELD, marked=True, marked_by_rule=other
    )
    client = _client(user)
    url = reverse("petitions:organise_held", args=[petition.slug])
    page = client.get(url).content.decode()
    assert "Count all 2" in page and "Count it" in page  # the farm rule's two, the other rule's one
    response = client.post(url, {"rule": farm.pk}, follow=True)
    assert "2 signatures counted" in response.content.decode()
    states = dict(petition.signatures.values_list("pk", "state"))
    assert [states[row.pk] for row in held] == [SignatureState.CONFIRMED] * 2
    assert states[waiting.pk] == SignatureState.PENDING and states[elsewhere.pk] == SignatureState.HELD
    waiting.refresh_from_db()
    assert not waiting.marked and waiting.reviewed_by == user  # it will confirm as anyone does
    events = Event.objects.filter(petition=petition, kind=EventKind.SIGNATURE_CONFIRMED)
    assert set(events.values_list("subject_id", flat=True)) == {row.pk for row in held}
    signature_counts_flush()
    petition.tally.refresh_from_db()
    assert petition.tally.confirmed == 2


def test_a_rule_changes_what_it_does_on_its_page_and_the_change_is_on_record(petition):
    user = _member(petition, MembershipRole.ORGANISER)
    rule = rules.signature_rule_add(petition=petition, by=user, kind="domain", action="mark", value="farm.example")
    client = _client(user)
    url = reverse("petitions:organise_rule", args=[petition.slug, rule.pk])
    assert "added it" in client.get(url).content.decode()
    response = client.post(url, {"action": "refuse", "note": "confirmed as a farm"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.action, rule.note) == ("refuse", "confirmed as a farm")
    change = SignatureRuleChange.objects.get(rule=rule, change="changed")
    assert (change.before["action"], change.after["action"], change.by) == ("mark", "refuse", user)
    assert "Accept, and hold for review → Refuse" in client.get(url).content.decode()
    assert client.post(url, {"action": "refuse", "note": "confirmed as a farm"}).status_code == 302  # nothing new
    assert SignatureRuleChange.objects.filter(rule=rule, change="changed").count() == 1
    limit = rules.signature_rule_add(
        petition=petition, by=user, kind="country_limit", action="mark", value="FR", limit=5
    )
    response = client.post(reverse("petitions:organise_rule", args=[petition.slug, limit.pk]), {"action": "allow"})
    assert response.status_code == 400 and "Only networks, domains and addresses" in response.content.decode()
    viewer = _member(petition, MembershipRole.VIEWER)
    assert _client(viewer).post(url, {"action": "mark"}).status_code == 403
    rules.signature_rule_remove(rule=rule, by=user)
    assert client.get(url).status_code == 404
