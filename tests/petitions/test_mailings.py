"""E-mailing an update to signers: four eyes, the weekly limit, each signer once, never after withdrawing or
unsubscribing, RFC 8058 one-click unsubscribe, the subscriptions page, progress and report."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from core.links import absolute_url
from core.models import OutboundEmail
from core.services.outbox import outbound_email_pump
from petitions.models import MailingState, MembershipRole, UpdateKind, UpdateMailing
from petitions.services.lifecycle import petition_close
from petitions.services.mailings import (
    MailingRefused,
    update_mailing_approve,
    update_mailing_cancel,
    update_mailing_queue,
    update_mailing_report,
    update_mailing_request,
    update_mailings_sweep,
)
from petitions.services.updates import petition_update_create, petition_update_publish
from signatures.models import Signature, SignatureState
from signatures.services.signing import signature_withdraw, signature_withdraw_token
from signatures.services.subscriptions import subscriptions_token, unsubscribe_token
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import ConfirmedSignatureFactory, PendingSignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(petition):
    """A writer (organiser) and two owners."""
    return (
        organiser_of(petition, role=MembershipRole.ORGANISER),
        organiser_of(petition, role=MembershipRole.OWNER),
        organiser_of(petition, role=MembershipRole.OWNER),
    )


def _update(petition, by, *, kind=UpdateKind.NEWS, publish=True):
    update = petition_update_create(petition=petition, by=by, title="We met the CEO", body="<p>It went well.</p>",
                                    kind=kind)  # fmt: skip
    if publish:
        petition_update_publish(update=update)
    return update


def _signers(petition, count, **extra):
    return [ConfirmedSignatureFactory(petition=petition, contact_ok=True, **extra) for _ in range(count)]


def _send_all():
    mail.outbox.clear()
    while outbound_email_pump(max_seconds=5):
        pass
    return list(mail.outbox)


def _approved(petition, team, update=None):
    writer, owner, _other = team
    update = update or _update(petition, writer)
    mailing = update_mailing_request(update=update, by=writer)
    assert update_mailing_approve(mailing=mailing, by=owner)
    while update_mailing_queue(mailing_id=mailing.pk, batch=3):
        pass
    mailing.refresh_from_db()
    return mailing


def test_an_approved_mailing_reaches_each_opted_in_confirmed_signer_once_with_one_click_unsubscribe(petition, team):
    wanted = _signers(petition, 7)
    ConfirmedSignatureFactory(petition=petition, contact_ok=False)  # did not agree
    PendingSignatureFactory(petition=petition, contact_ok=True)  # not confirmed
    mailing = _approved(petition, team)
    assert (mailing.state, mailing.audience, mailing.queued) == (MailingState.QUEUED, 7, 7)
    sent = _send_all()
    assert sorted(m.to[0] for m in sent) == sorted(s.email for s in wanted)
    message = sent[0]
    signature = Signature.objects.get(email=message.to[0])
    unsubscribe = reverse("petitions:unsubscribe", args=[unsubscribe_token(signature_id=signature.pk)])
    assert message.extra_headers["List-Unsubscribe"] == f"<{absolute_url(unsubscribe)}>"  # https in production
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "We met the CEO" in message.subject and "It went well." in message.body
    assert reverse("petitions:subscriptions", args=[subscriptions_token(signature_id=signature.pk)]) in message.body
    html = message.alternatives[0][0]
    assert "<p>It went well.</p>" in html and unsubscribe in html

    # Run again, queue again: nothing new, nothing sent twice.
    UpdateMailing.objects.filter(pk=mailing.pk).update(state=MailingState.QUEUEING, after_id=0)
    update_mailing_queue(mailing_id=mailing.pk)
    assert OutboundEmail.objects.filter(mailing=mailing.key).count() == 7
    assert _send_all() == []
    assert update_mailings_sweep()["finished"] == 1
    mailing.refresh_from_db()
    assert (mailing.sent, mailing.withheld, mailing.failed, mailing.finished_at is not None) == (7, 0, 0, True)


def test_the_one_who_asked_cannot_approve_and_only_an_owner_can(petition, team):
    writer, owner, _other = team
    _signers(petition, 1)
    update = _update(petition, owner)
    mailing = update_mailing_request(update=update, by=owner)
    with pytest.raises(MailingRefused, match="second owner"):
        update_mailing_approve(mailing=mailing, by=owner)
    with pytest.raises(MailingRefused, match="owner"):
        update_mailing_approve(mailing=mailing, by=writer)
    mailing.refresh_from_db()
    assert mailing.state == MailingState.AWAITING_APPROVAL and mailing.approved_by is None
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        UpdateMailing.objects.filter(pk=mailing.pk).update(approved_by=owner, approved_at=timezone.now(),
                                                           state=MailingState.QUEUEING)  # fmt: skip


def test_a_second_approval_does_nothing(petition, team):
    writer, owner, other = team
    _signers(petition, 2)
    mailing = update_mailing_request(update=_update(petition, writer), by=writer)
    assert update_mailing_approve(mailing=mailing, by=owner) is True
    assert update_mailing_approve(mailing=mailing, by=other) is False  # the double click, or a second owner
    mailing.refresh_from_db()
    assert mailing.approved_by == owner


def test_at_most_the_weekly_number_of_mailings(petition, team):
    writer, owner, _other = team
    _signers(petition, 1)
    with override_settings(VIGIL_UPDATE_MAILINGS_PER_WEEK=1):
        _approved(petition, team)
        second = _update(petition, writer)
        with pytest.raises(MailingRefused, match="the most allowed"):
            update_mailing_request(update=second, by=writer)
        UpdateMailing.objects.update(approved_at=timezone.now() - timedelta(days=8))
        mailing = update_mailing_request(update=second, by=writer)
        assert update_mailing_approve(mailing=mailing, by=owner)


def test_no_one_to_mail_and_an_unpublished_update_are_refused(petition, team):
    writer, _owner, _other = team
    with pytest.raises(MailingRefused, match="no one to e-mail"):
        update_mailing_request(update=_update(petition, writer), by=writer)
    _signers(petition, 1)
    with pytest.raises(MailingRefused, match="Publish the update first"):
        update_mailing_request(update=_update(petition, writer, publish=False), by=writer)


def test_news_may_not_be_mailed_long_after_closing_but_the_outcome_may(petition, team):
    writer, owner, _other = team
    _signers(petition, 1)
    news = _update(petition, writer)
    ending = _update(petition, writer, kind=UpdateKind.OUTCOME)
    petition_close(petition=petition, now=timezone.now() - timedelta(days=40))
    with override_settings(VIGIL_UPDATE_MAILING_DAYS_AFTER_CLOSE=30):
        with pytest.raises(MailingRefused, match="closed more than 30 days ago"):
            update_mailing_request(update=news, by=writer)
        mailing = update_mailing_request(update=ending, by=writer)
        assert update_mailing_approve(mailing=mailing, by=owner)


def test_a_signer_who_withdraws_or_unsubscribes_while_it_goes_out_is_not_mailed(petition, team):
    withdrawing, unsubscribing, staying = _signers(petition, 3)
    mailing = _approved(petition, team)
    signature_withdraw(token=signature_withdraw_token(signature=withdrawing))
    Client().post(reverse("petitions:unsubscribe", args=[unsubscribe_token(signature_id=unsubscribing.pk)]),
                  {"List-Unsubscribe": "One-Click"})  # fmt: skip
    assert [m.to for m in _send_all()] == [[staying.email]]
    report = update_mailing_report(mailing=mailing)
    assert (report["sent"], report["withheld"], report["failed"], report["waiting"]) == (1, 2, 0, 0)
    assert report["unsubscribed"] == 1


def test_one_click_unsubscribe_needs_no_session_and_stops_the_next_mailing(petition, team):
    writer, owner, _other = team
    first, second = _signers(petition, 2)
    url = reverse("petitions:unsubscribe", args=[unsubscribe_token(signature_id=first.pk)])
    client = Client(enforce_csrf_checks=True)
    page = client.get(url)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and b"Stop these e-mails" in page.content
    first.refresh_from_db()
    assert first.contact_ok
    response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.content == b"Unsubscribed.\n"
    first.refresh_from_db()
    assert not first.contact_ok and first.unsubscribed_at is not None
    assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200  # twice is fine
    _approved(petition, team)
    assert [m.to for m in _send_all()] == [[second.email]]


def test_an_altered_unsubscribe_link_is_refused(petition):
    (signer,) = _signers(petition, 1)
    token = unsubscribe_token(signature_id=signer.pk)
    forged = token.replace(f"{signer.pk}:", f"{signer.pk + 1}:")
    response = Client().post(reverse("petitions:unsubscribe", args=[forged]), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    signer.refresh_from_db()
    assert signer.contact_ok


def test_the_subscriptions_page_lists_every_petition_of_the_address_and_stops_and_resumes_each(petition):
    from tests.petitions.factories import OpenPetitionFactory

    other = OpenPetitionFactory(title="Another campaign")
    mine = ConfirmedSignatureFactory(petition=petition, contact_ok=True, email="ann@example.org")
    also = ConfirmedSignatureFactory(petition=other, contact_ok=True, email="ann@example.org")
    stranger = ConfirmedSignatureFactory(petition=other, contact_ok=True, email="bob@example.org")
    url = reverse("petitions:subscriptions", args=[subscriptions_token(signature_id=mine.pk)])
    client = Client()
    page = client.get(url).content.decode()
    assert petition.title in page and "Another campaign" in page and "bob@" not in page
    assert client.post(url, {"action": "stop", "signature": also.pk}).status_code == 302
    also.refresh_from_db()
    assert not also.contact_ok
    client.post(url, {"action": "stop", "signature": stranger.pk})  # not theirs
    stranger.refresh_from_db()
    assert stranger.contact_ok
    client.post(url, {"action": "resume", "signature": also.pk})
    also.refresh_from_db()
    assert also.contact_ok and also.unsubscribed_at is None
    assert client.get(url.replace(":", "%3A")[:-3] + "xx/").status_code == 400


def test_a_stopped_mailing_sends_nothing_more(petition, team):
    writer, _owner, _other = team
    _signers(petition, 4)
    mailing = _approved(petition, team)
    assert update_mailing_cancel(mailing=mailing, by=writer)
    assert _send_all() == []
    report = update_mailing_report(mailing=mailing)
    assert (report["sent"], report["withheld"]) == (0, 4)


def test_anonymised_signers_are_not_mailed(petition, team):
    gone, kept = _signers(petition, 2)
    mailing = _approved(petition, team)
    erased = {"email": "", "canonical_email": "", "first_name": "", "last_name": "", "anonymised_at": timezone.now()}
    Signature.objects.filter(pk=gone.pk, state=SignatureState.CONFIRMED).update(**erased)
    assert [m.to for m in _send_all()] == [[kept.email]]
    assert update_mailing_report(mailing=mailing)["withheld"] == 1


def test_the_organiser_pages_ask_approve_and_report(petition, team):
    writer, owner, _other = team
    _signers(petition, 3)
    update = _update(petition, writer)
    act = reverse("petitions:organise_update_action", args=[petition.slug, update.number])
    page_url = reverse("petitions:organise_update", args=[petition.slug, update.number])
    writers, owners = Client(), Client()
    writers.force_login(writer)
    owners.force_login(owner)
    assert "Ask to e-mail it" in writers.get(page_url).content.decode()
    writers.post(act, {"action": "mail"})
    (ask,) = OutboundEmail.objects.filter(subject__startswith="Approve a mailing")
    assert owner.email in ask.to and writer.email not in ask.to and page_url in ask.body_text
    assert "Approve and send" not in writers.get(page_url).content.decode()
    response = writers.post(act, {"action": "approve"}, follow=True)
    assert "second owner" in response.content.decode()
    assert "Approve and send" in owners.get(page_url).content.decode()
    owners.post(act, {"action": "approve"})
    owners.post(act, {"action": "approve"})  # the double click
    mailing = UpdateMailing.objects.get()
    assert mailing.approved_by == owner and mailing.state == MailingState.QUEUEING
    update_mailing_queue(mailing_id=mailing.pk)
    _send_all()
    progress = owners.get(reverse("petitions:organise_update_mailing", args=[petition.slug, update.number])).json()
    assert (progress["audience"], progress["sent"], progress["waiting"]) == (3, 3, 0)
    page = owners.get(page_url).content.decode()
    assert 'data-figure="sent">3<' in page


def test_the_signers_name_is_escaped_in_the_html_and_each_message_keeps_one_message_id(petition, team):
    ConfirmedSignatureFactory(petition=petition, contact_ok=True, first_name="<b>Ann</b>")
    mailing = _approved(petition, team)
    (message,) = _send_all()
    assert "Hello <b>Ann</b>," in message.body
    assert "Hello &lt;b&gt;Ann&lt;/b&gt;," in message.alternatives[0][0]
    row = OutboundEmail.objects.get(mailing=mailing.key)
    assert (
        message.extra_headers["Message-ID"]
        == row.message_id
        == f"<update-{mailing.update_id}.{row.render_context['signature_id']}@{row.message_id.split('@')[1]}"
    )


def test_the_response_and_a_victory_are_drafted_as_updates_and_may_be_mailed_long_after_closing(petition, team):
    from datetime import date

    from petitions.services.outcomes import petition_outcome_set, petition_response_record

    writer, owner, _other = team
    (signer,) = _signers(petition, 1)
    client = Client()
    client.force_login(writer)
    url = reverse("petitions:organise_outcome", args=[petition.slug])
    response = client.post(url, {"form": "draft", "which": "response"}, follow=True)
    assert "Record the response first" in response.content.decode()
    petition_response_record(petition=petition, text="<p>We will pause the sales.</p>", answered_by="The CEO",
                             answered_on=date(2026, 11, 20))  # fmt: skip
    petition_outcome_set(petition=petition, outcome="victory", note="Sales paused.")
    assert client.post(url, {"form": "draft", "which": "response"}).status_code == 302
    assert client.post(url, {"form": "draft", "which": "outcome"}).status_code == 302
    answer, victory = petition.updates.order_by("number")
    assert (answer.kind, answer.title) == (UpdateKind.RESPONSE, "The CEO has answered")
    assert "We will pause the sales." in answer.body
    assert (victory.kind, victory.title) == (UpdateKind.OUTCOME, "We won") and "Sales paused." in victory.body

    petition_update_publish(update=victory)
    petition_close(petition=petition, now=timezone.now() - timedelta(days=90))
    mailing = update_mailing_request(update=victory, by=writer)
    assert update_mailing_approve(mailing=mailing, by=owner)
    update_mailing_queue(mailing_id=mailing.pk)
    assert [m.to for m in _send_all()] == [[signer.email]]


def test_staff_read_mailings_in_the_admin_and_change_none(petition, team):
    from accounts.roles import ORGANISERS
    from tests.factories import staff_user

    staff = staff_user(ORGANISERS)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin_client = Client()
    admin_client.force_login(staff)
    _signers(petition, 2)
    mailing = _approved(petition, team)
    listing = admin_client.get(reverse("admin:petitions_updatemailing_changelist"))
    assert listing.status_code == 200 and "We met the CEO" in listing.content.decode()
    change = admin_client.get(reverse("admin:petitions_updatemailing_change", args=[mailing.pk]))
    assert change.status_code == 200 and 'name="state"' not in change.content.decode()
    assert admin_client.post(reverse("admin:petitions_updatemailing_delete", args=[mailing.pk])).status_code == 403
