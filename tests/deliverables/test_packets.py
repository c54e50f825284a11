"""Signature packets: the CSV (COPY, cleaned in SQL), the PDF, jobs with progress, private files, expiry, downloads."""

import csv
import hashlib
import io
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from deliverables.models import PacketExport, PrivateDownload
from deliverables.private_files import private_exists, private_path
from deliverables.services.packets import PacketError, packet_export_request, packet_export_run, packet_exports_expire
from petitions.models import MembershipRole
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import ConfirmedSignatureFactory, PendingSignatureFactory

pytestmark = pytest.mark.django_db


def _run(petition, user, kind="csv", include_emails=False, role="owner"):
    export = packet_export_request(petition=petition, kind=kind, include_emails=include_emails, by=user, role=role)
    return packet_export_run(export_id=export.pk)


def _rows(export) -> list[dict]:
    return list(csv.DictReader(io.StringIO(private_path(export.file_name).read_text(encoding="utf-8"))))


def test_csv_has_one_row_per_confirmed_signature_and_neutralises_formulas_and_invisible_marks(petition):
    user = organiser_of(petition)
    ConfirmedSignatureFactory(
        petition=petition,
        first_name='=HYPERLINK("http://evil.example","x")',
        last_name="A",
        town="+Town",
        region="-Region",
        postal_code="@1",
    )
    ConfirmedSignatureFactory(
        petition=petition, first_name="\u202eevil", last_name="B\u200f", town="\u200e=cmd", region="\tTabbed"
    )
    ConfirmedSignatureFactory(
        petition=petition, first_name="Zoë", last_name="Ng", town="Kraków", country="PL", region=""
    )
    PendingSignatureFactory(petition=petition)
    export = _run(petition, user)
    assert export.state == "done" and export.rows_total == 3 and export.rows_done == 3
    rows = _rows(export)
    assert list(rows[0]) == ["name", "town", "region", "country", "postal_code", "signed_at", "confirmed_at"]
    by_name = {row["name"]: row for row in rows}
    evil = by_name['\'=HYPERLINK("http://evil.example","x") A']
    assert evil["town"] == "'+Town" and evil["region"] == "'-Region" and evil["postal_code"] == "'@1"
    bidi = by_name["evil B"]  # the override and marks are gone, and what they hid is neutralised
    assert bidi["town"] == "'=cmd" and bidi["region"] == "'\tTabbed"
    assert by_name["Zoë Ng"]["town"] == "Kraków" and "email" not in rows[0]
    assert (
        export.rows_checksum
        == export.file_checksum
        == hashlib.sha256(private_path(export.file_name).read_bytes()).hexdigest()
    )


def test_emails_only_when_asked_and_permitted(petition):
    owner = organiser_of(petition)
    ConfirmedSignatureFactory(petition=petition, email="ann@example.org")
    assert "email" not in _rows(_run(petition, owner))[0]
    with_emails = _run(petition, owner, include_emails=True)
    assert _rows(with_emails)[0]["email"] == "ann@example.org"
    without = _rows(_run(petition, owner))
    assert (
        with_emails.rows_checksum
        == hashlib.sha256(
            private_path(PacketExport.objects.exclude(include_emails=True).first().file_name).read_bytes()
        ).hexdigest()
        and len(without) == 1
    )
    viewer = organiser_of(petition, MembershipRole.VIEWER)
    with pytest.raises(PacketError):
        _run(petition, viewer, include_emails=True, role="viewer")
    with pytest.raises(PacketError):
        _run(petition, owner, kind="pdf", include_emails=True)


def test_pdf_packet_has_cover_with_rows_checksum_and_is_grouped(petition):
    user = organiser_of(petition)
    for country, region in [("GB", "Scotland"), ("GB", "Wales"), ("FR", "Bretagne")]:
        for _ in range(3):
            ConfirmedSignatureFactory(petition=petition, country=country, region=region)
    ConfirmedSignatureFactory(petition=petition, first_name="x" * 80, last_name="y" * 80, town="\u202eTown")
    export = _run(petition, user, kind="pdf")
    csv_export = _run(petition, user)
    content = private_path(export.file_name).read_bytes()
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    assert export.rows_total == 10 and export.rows_checksum == csv_export.file_checksum
    assert export.file_checksum == hashlib.sha256(content).hexdigest()


def test_running_twice_does_nothing_the_second_time_and_leaves_no_temporary_files(petition):
    user = organiser_of(petition)
    ConfirmedSignatureFactory(petition=petition)
    export = _run(petition, user)
    finished = export.finished_at
    again = packet_export_run(export_id=export.pk)
    assert again.finished_at == finished and again.attempts == 1
    assert [p.name for p in private_path(export.file_name).parent.iterdir()] == [export.file_name.rsplit("/", 1)[1]]


def test_expired_files_are_deleted_and_their_page_says_so(client, petition):
    user = organiser_of(petition)
    ConfirmedSignatureFactory(petition=petition)
    export = _run(petition, user)
    assert private_exists(export.file_name)
    packet_exports_expire(now=timezone.now() + timedelta(days=15))
    export.refresh_from_db()
    assert export.state == "expired" and export.file_name == ""
    client.force_login(user)
    assert (
        client.get(reverse("deliverables:organise_packet_download", args=[petition.slug, export.pk])).status_code == 404
    )


def test_page_starts_an_export_shows_progress_and_logs_each_download(client, petition, django_assert_max_num_queries):
    user = organiser_of(petition)
    client.force_login(user)
    for _ in range(5):
        ConfirmedSignatureFactory(petition=petition)
    url = reverse("deliverables:organise_packets", args=[petition.slug])
    assert client.post(url, {"kind": "csv"}).status_code == 302
    export = PacketExport.objects.get()
    assert export.requested_by == user and export.state == "queued"
    progress = client.get(reverse("deliverables:organise_packet_progress", args=[petition.slug, export.pk])).json()
    assert progress["state"] == "queued" and progress["total"] == 5 and progress["download"] == ""
    packet_export_run(export_id=export.pk)
    progress = client.get(reverse("deliverables:organise_packet_progress", args=[petition.slug, export.pk])).json()
    assert progress["state"] == "done" and progress["done"] == 5 and progress["download"]
    response = client.get(progress["download"])
    assert (
        response["Content-Disposition"].startswith("attachment")
        and b"".join(response.streaming_content).count(b"\n") == 6
    )
    client.get(progress["download"])
    assert PrivateDownload.objects.filter(user=user, kind="packet", object_id=export.pk).count() == 2
    with django_assert_max_num_queries(30) as few:
        html = client.get(url).content.decode()
    assert "data-progress-url" in html and "deliverables.js" in html
    # The log reads as words, and never shows the private folders a file is kept in.
    assert "signature packet · " in html and f"/{petition.pk}/" not in html.split("Recent downloads", 1)[1]
    for _ in range(5):
        _run(petition, user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_files_are_never_under_the_public_media_root(petition, settings):
    user = organiser_of(petition)
    ConfirmedSignatureFactory(petition=petition)
    export = _run(petition, user)
    path = private_path(export.file_name)
    assert str(settings.MEDIA_ROOT) not in str(path) and str(settings.VIGIL_PRIVATE_ROOT) in str(path)
    with pytest.raises(ValueError):
        private_path("../../etc/passwd")


# --- Signers' e-mail addresses: one rule for asking for them and for downloading them ---------------------------------


def _member_without_email_permission(petition):
    from tests.factories import VerifiedUserFactory, totp_enable
    from tests.petitions.factories import MembershipFactory

    user = VerifiedUserFactory()
    totp_enable(user)
    MembershipFactory(petition=petition, user=user, role=MembershipRole.ORGANISER)
    return user


def _who(petition, who):
    from tests.petitions.factories import OpenPetitionFactory

    return {
        "member with the permission": lambda: organiser_of(petition, MembershipRole.ORGANISER),
        "member without the permission": lambda: _member_without_email_permission(petition),
        "non-member": lambda: organiser_of(OpenPetitionFactory()),
    }[who]()


EMAIL_MATRIX = [
    # (packet with e-mails?, who, answer to the request, answer to the download)
    (True, "member with the permission", 302, 200),
    (True, "member without the permission", 400, 403),
    (True, "non-member", 404, 404),
    (False, "member with the permission", 302, 200),
    (False, "member without the permission", 302, 200),
    (False, "non-member", 404, 404),
]


@pytest.mark.parametrize(("include_emails", "who", "created", "_downloaded"), EMAIL_MATRIX)
def test_who_may_ask_for_a_packet_with_or_without_emails(client, petition, include_emails, who, created, _downloaded):
    ConfirmedSignatureFactory(petition=petition, email="ann@example.org")
    client.force_login(_who(petition, who))
    data = {"kind": "csv", **({"include_emails": "on"} if include_emails else {})}
    response = client.post(reverse("deliverables:organise_packets", args=[petition.slug]), data)
    assert response.status_code == created
    made = PacketExport.objects.filter(petition=petition, include_emails=include_emails)
    assert made.exists() == (created == 302)
    if created == 400:
        assert "may not export signers' e-mail addresses" in unescape(response.content.decode())


@pytest.mark.parametrize(("include_emails", "who", "_created", "downloaded"), EMAIL_MATRIX)
def test_who_may_download_a_packet_with_or_without_emails(client, petition, include_emails, who, _created, downloaded):
    ConfirmedSignatureFactory(petition=petition, email="ann@example.org")
    export = _run(petition, organiser_of(petition), include_emails=include_emails)
    user = _who(petition, who)
    client.force_login(user)
    response = client.get(reverse("deliverables:organise_packet_download", args=[petition.slug, export.pk]))
    assert response.status_code == downloaded
    logged = PrivateDownload.objects.filter(user=user, kind="packet", object_id=export.pk)
    if downloaded == 200:
        body = b"".join(response.streaming_content).decode()
        assert ("ann@example.org" in body) == include_emails
        assert logged.count() == 1
    else:
        assert "ann@example.org" not in response.content.decode() and not logged.exists()


@pytest.mark.parametrize(("include_emails", "who", "_created", "downloaded"), EMAIL_MATRIX)
def test_the_packets_page_offers_a_download_only_where_it_would_be_served(client, petition, include_emails, who,
                                                                          _created, downloaded):  # fmt: skip
    export = _run(petition, organiser_of(petition), include_emails=include_emails)
    client.force_login(_who(petition, who))
    link = reverse("deliverables:organise_packet_download", args=[petition.slug, export.pk])
    page = client.get(reverse("deliverables:organise_packets", args=[petition.slug]))
    progress = client.get(reverse("deliverables:organise_packet_progress", args=[petition.slug, export.pk]))
    if downloaded == 404:
        assert page.status_code == progress.status_code == 404
        return
    assert (link in page.content.decode()) == (downloaded == 200)
    assert progress.json()["download"] == (link if downloaded == 200 else "")
