"""The lifecycle of deliverables' personal data: delivered copies and compiled letters expire, sign-ons' private
fields and proofs go after the letter closes, uploads of sign-ons nobody will review go sooner. Each rule runs
through privacy_sweep at a moved clock, and the values are then searched for everywhere."""

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from core.privacy import privacy_sweep
from deliverables.models import DeliveryItem, DeliveryLog, JobState, LetterCompile, SignOn, SignOnState
from deliverables.private_files import private_exists, private_write_bytes
from deliverables.services.delivery import delivery_create, delivery_send
from tests.deliverables.factories import OpenLetterFactory, SignOnFactory, organiser_of
from tests.deliverables.test_delivery import _documents
from tests.petitions.factories import ClosedPetitionFactory
from tests.privacy.traces import database_traces

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_delivered_copies_and_compiled_letters_expire_and_the_log_keeps_what_went(time_machine, settings):
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    petition = ClosedPetitionFactory()
    user = organiser_of(petition)
    export, compiled = _documents(petition, user)
    delivery = delivery_create(petition=petition, method="email", exports=[export], compiles=[compiled], by=user)
    delivery_send(delivery_id=delivery.pk)
    files = [item.file_name for item in DeliveryItem.objects.filter(delivery=delivery)] + [compiled.file_name]
    assert files and all(private_exists(name) for name in files)
    time_machine.move_to(start + timedelta(days=settings.VIGIL_DELIVERED_FILE_EXPIRY_DAYS - 1), tick=False)
    privacy_sweep()
    assert all(private_exists(name) for name in files)
    time_machine.move_to(start + timedelta(days=settings.VIGIL_DELIVERED_FILE_EXPIRY_DAYS + 1), tick=False)
    privacy_sweep()
    assert not any(private_exists(name) for name in files)
    items = list(DeliveryItem.objects.filter(delivery=delivery))
    assert items and all(item.file_name == "" and item.checksum and item.label for item in items)
    compiled = LetterCompile.objects.get(pk=compiled.pk)
    assert compiled.state == JobState.EXPIRED and compiled.checksum
    assert DeliveryLog.objects.filter(delivery=delivery).exists()


def test_sign_ons_lose_their_private_fields_and_proof_months_after_the_letter_closes(time_machine, settings):
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    letter = OpenLetterFactory(petition=ClosedPetitionFactory())
    signon = SignOnFactory(letter=letter, email="Director@Quietorg.example", signer_name="Ottoline Marchbanks",
                           proof_file="proofs/x/y/proof.pdf", proof_size=9)  # fmt: skip
    private_write_bytes(signon.proof_file, b"%PDF-1.4 proof")
    letter.closed_at = start
    letter.save(update_fields=["closed_at"])
    time_machine.move_to(start + timedelta(days=30 * settings.VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS - 2), tick=False)
    privacy_sweep()
    assert SignOn.objects.get(pk=signon.pk).anonymised_at is None
    time_machine.move_to(start + timedelta(days=30 * settings.VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS + 1), tick=False)
    privacy_sweep()
    after = SignOn.objects.get(pk=signon.pk)
    assert after.anonymised_at and after.name == signon.name and after.website == signon.website
    assert not private_exists("proofs/x/y/proof.pdf")
    assert database_traces("quietorg") == [] and database_traces("Marchbanks") == []


def test_uploads_of_sign_ons_nobody_will_review_go_sooner(time_machine, settings):
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    letter = OpenLetterFactory(petition=ClosedPetitionFactory())
    pending = SignOnFactory(letter=letter, state=SignOnState.PENDING, proof_file="proofs/p/q/p.pdf")
    pending.logo.save("logo.png", ContentFile(_png()))
    private_write_bytes(pending.proof_file, b"%PDF-1.4")
    verified = SignOnFactory(letter=letter)
    verified.logo.save("logo.png", ContentFile(_png()))
    logo_path = pending.logo.path
    time_machine.move_to(start + timedelta(days=settings.VIGIL_SIGNON_UNVERIFIED_UPLOAD_DAYS + 1), tick=False)
    privacy_sweep()
    pending.refresh_from_db()
    verified.refresh_from_db()
    assert not pending.logo and not pending.proof_file and pending.uploads_removed_at
    assert not private_exists("proofs/p/q/p.pdf")
    import os

    assert not os.path.exists(logo_path)
    assert verified.logo and os.path.exists(verified.logo.path)  # a verified organisation's logo is on the letter
