"""The deliverables app took its models over from petitions and signatures without moving a row or a file: a
database written before (at petitions 0004 and signatures 0004, rows of every kind and their private files) is
migrated forward and everything is still there, served by the pages, with the permissions granted before."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ORGANISERS
from deliverables import models as current
from deliverables.private_files import private_write_bytes
from tests.factories import staff_user

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("petitions", "0004_invitations"), ("signatures", "0004_signon_privacy")]
FILES = {
    "packets/migration/signatures.csv": b"first_name,town\nAda,Leeds\n",
    "letters/migration/letter-1.pdf": b"%PDF-1.4 compiled letter\n",
    "proofs/migration/holding.pdf": b"%PDF-1.4 proof of holding\n",
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _write_before(apps, user_id: int) -> dict:
    """Rows of every moved kind, written with the models as they were (app labels petitions and signatures)."""
    now = timezone.now()
    get = apps.get_model
    petition = get("petitions", "Petition").objects.create(
        title="Stop selling face recognition", slug="stop-face-recognition", target_name="The Chief Executive",
        ask="Stop selling it to police", body="<p>Why.</p>", status="open", opened_at=now,
    )  # fmt: skip
    get("petitions", "PetitionMembership").objects.create(petition=petition, user_id=user_id, role="owner")
    letter = get("petitions", "Letter").objects.create(
        petition=petition, kind="shareholder", slug="shareholders", title="Shareholders' letter", body="Dear CEO,",
        state="open", opened_at=now,
    )  # fmt: skip
    version = get("petitions", "LetterVersion").objects.create(letter=letter, number=1, title=letter.title, body="x")
    letter.current_version = version
    letter.save()
    signon = get("signatures", "SignOn").objects.create(
        letter=letter, letter_version=version, state="verified", name="Ethical Pension Fund",
        signer_name="Ada Lee", email="ada@fund.example", canonical_email="ada@fund.example",
        holding_kind="shares", shares=1200, proof_file="proofs/migration/holding.pdf",
        proof_mimetype="application/pdf", proof_size=len(FILES["proofs/migration/holding.pdf"]),
        confirmed_at=now, reviewed_at=now,
    )  # fmt: skip
    compiled = get("petitions", "LetterCompile").objects.create(
        letter=letter, number=1, letter_version=version, state="done", rows_total=1, rows_done=1,
        signatory_count=1, checksum="c" * 64, file_name="letters/migration/letter-1.pdf",
        file_size=len(FILES["letters/migration/letter-1.pdf"]), finished_at=now,
    )  # fmt: skip
    export = get("signatures", "PacketExport").objects.create(
        petition=petition, kind="csv", state="done", rows_total=1, rows_done=1, rows_checksum="r" * 64,
        file_checksum="f" * 64, file_name="packets/migration/signatures.csv",
        file_size=len(FILES["packets/migration/signatures.csv"]), finished_at=now, expires_at=now + timedelta(days=7),
    )  # fmt: skip
    get("signatures", "PrivateDownload").objects.create(
        petition=petition, user_id=user_id, kind="packet", object_id=export.pk, file_name=export.file_name
    )
    delivery = get("petitions", "Delivery").objects.create(
        petition=petition, method="by_hand", state="recorded", recipient_name="The Chief Executive",
        note="Handed over at the annual meeting", delivered_at=now,
    )  # fmt: skip
    get("petitions", "DeliveryItem").objects.create(
        delivery=delivery, kind="packet", export=export, label="Signature packet", file_name=export.file_name,
        file_size=export.file_size, checksum=export.file_checksum,
    )  # fmt: skip
    get("petitions", "DeliveryLog").objects.create(
        delivery=delivery, petition=petition, event="recorded", to="The Chief Executive", what="Signature packet"
    )
    for name, content in FILES.items():
        private_write_bytes(name, content)
    return {"petition": petition.pk, "letter": letter.pk, "signon": signon.pk, "compiled": compiled.pk,
            "export": export.pk, "delivery": delivery.pk}  # fmt: skip


def test_rows_files_and_permissions_written_before_the_move_are_intact_and_served():
    organiser = staff_user(ORGANISERS)
    executor = _migrate([*BEFORE, ("deliverables", None)])
    old_apps = executor.loader.project_state(BEFORE).apps
    assert not ContentType.objects.filter(app_label="deliverables").exists()  # the move is undone, content types too
    permission = old_apps.get_model("auth", "Permission").objects.get(
        codename="export_signer_emails", content_type__app_label="signatures"
    )
    old_apps.get_model("accounts", "User").objects.get(pk=organiser.pk).user_permissions.add(permission.pk)
    ids = _write_before(old_apps, organiser.pk)

    _migrate(executor.loader.graph.leaf_nodes())

    # Every row, under the new app, with its values and links.
    signon = current.SignOn.objects.select_related("letter__petition", "letter_version").get()
    assert (signon.pk, signon.name, signon.shares, signon.letter_id) == (ids["signon"], "Ethical Pension Fund", 1200,
                                                                          ids["letter"])  # fmt: skip
    assert signon.letter.current_version_id == signon.letter_version_id
    export = current.PacketExport.objects.get()
    assert export.pk == ids["export"] and export.state == current.JobState.DONE
    item = current.DeliveryItem.objects.select_related("delivery", "export").get()
    assert item.export_id == ids["export"] and item.delivery_id == ids["delivery"]
    assert current.DeliveryLog.objects.get().event == current.DeliveryEvent.RECORDED
    assert current.LetterCompile.objects.get().pk == ids["compiled"]
    assert current.PrivateDownload.objects.get().object_id == ids["export"]
    assert current.LetterVersion.objects.count() == 1 and current.Delivery.objects.count() == 1

    # The content types changed app, so the permission granted before still holds under its new name.
    assert not ContentType.objects.filter(app_label__in=["petitions", "signatures"], model="packetexport").exists()
    assert get_user_model().objects.get(pk=organiser.pk).has_perm("deliverables.export_signer_emails")

    # And the pages serve them: the public letter, the private files, the delivery log.
    client = Client()
    client.force_login(organiser)
    slug = "stop-face-recognition"
    assert "Ethical Pension Fund" in client.get(signon.letter.get_absolute_url()).content.decode()
    downloads = {
        "packets/migration/signatures.csv": reverse("deliverables:organise_packet_download", args=[slug, export.pk]),
        "letters/migration/letter-1.pdf": reverse(
            "deliverables:organise_compile_download", args=[slug, ids["compiled"]]
        ),
        "proofs/migration/holding.pdf": reverse(
            "deliverables:organise_signon_proof", args=[slug, "shareholders", signon.pk]
        ),
    }  # fmt: skip
    for name, url in downloads.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert b"".join(response.streaming_content) == FILES[name]
    delivery_page = client.get(reverse("deliverables:organise_delivery", args=[slug])).content.decode()
    assert "Handed over at the annual meeting" in delivery_page or "The Chief Executive" in delivery_page
