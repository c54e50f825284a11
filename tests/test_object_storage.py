"""With VIGIL_S3_BUCKET set, every file goes to an S3-compatible object store (here moto's standalone server, started
on a free port): uploads and renditions under "media/", packets, compiled letters, proofs and delivered copies under
"private/". Nothing is written to the local folders, private files reach only the people the views let through,
and retention deletes the objects, not only the rows."""

import os

import pytest
from botocore.exceptions import ClientError
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from storages.backends.s3 import S3Storage

from config.env import s3_storages
from core.models import OutboundEmail
from core.services.outbox import outbound_email_send
from deliverables.models import JobState
from deliverables.private_files import atomic_private_file, private_exists
from deliverables.services.delivery import delivery_create, delivery_send
from deliverables.services.letters import letter_compile_request, letter_compile_run
from deliverables.services.packets import packet_export_request, packet_export_run, packet_exports_expire
from deliverables.services.signons import signon_logo_render
from petitions.services.editing import petition_image_render
from tests.deliverables.factories import OpenLetterFactory, SignOnFactory, organiser_of
from tests.factories import image_bytes
from tests.petitions.factories import ConfirmedSignatureFactory, OpenPetitionFactory
from tests.throwaway import ThrowawayS3

pytestmark = pytest.mark.django_db

BUCKET = "vigil-test"


@pytest.fixture(scope="module")
def object_store(tmp_path_factory):
    with ThrowawayS3(tmp_path_factory.mktemp("s3"), bucket=BUCKET) as store:
        yield store


@pytest.fixture
def petition(db):
    return OpenPetitionFactory()


@pytest.fixture
def s3(object_store, settings, tmp_path):
    """The settings VIGIL_S3_BUCKET produces (config/settings.py), aimed at the test's server; the local folders
    are empty ones, so that anything written there shows."""
    env = object_store.settings("")
    client = object_store.client()
    settings.STORAGES = {
        **settings.STORAGES,
        **s3_storages(bucket=env["BUCKET"], endpoint_url=env["ENDPOINT_URL"], region=env["REGION"],
                      access_key=env["ACCESS_KEY_ID"], secret_key=env["SECRET_ACCESS_KEY"]),
    }  # fmt: skip
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VIGIL_PRIVATE_ROOT = tmp_path / "private"
    settings.VIGIL_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.VIGIL_EXPORT_PROGRESS_SECONDS = 0.0
    yield client
    assert not (tmp_path / "media").exists() and not (tmp_path / "private").exists()  # no local file at all


def _keys(client, prefix: str) -> set[str]:
    found = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {item["Key"] for item in found}


def _exists(client, key: str) -> bool:
    try:
        client.head_object(Bucket=BUCKET, Key=key)
        return True
    except ClientError:
        return False


def test_uploads_and_their_renditions_live_in_the_bucket(s3, petition):
    petition.image = SimpleUploadedFile("street.jpg", image_bytes(size=(1200, 800)), "image/jpeg")  # as a form does
    petition.image_alt = "A street at night"
    petition.save()
    petition = petition_image_render(petition_id=petition.pk)
    assert petition.renditions and all(_exists(s3, f"media/{r['name']}") for r in petition.renditions)
    assert _exists(s3, f"media/{petition.image.name}")


def test_packets_letters_proofs_and_deliveries_are_private_objects_served_to_organisers_only(s3, client, petition):
    owner = organiser_of(petition)
    for _ in range(3):
        ConfirmedSignatureFactory(petition=petition)
    export = packet_export_run(
        export_id=packet_export_request(petition=petition, kind="pdf", include_emails=False, by=owner, role="owner").pk
    )
    assert export.state == JobState.DONE and _exists(s3, f"private/{export.file_name}")

    letter = OpenLetterFactory(petition=petition)
    signon = SignOnFactory(letter=letter)
    signon.logo.save("logo.png", ContentFile(image_bytes("PNG", size=(300, 120))), save=True)
    signon_logo_render(signon_id=signon.pk)
    compiled = letter_compile_run(compile_id=letter_compile_request(letter=letter, by=owner, queue=False).pk)
    assert compiled.state == JobState.DONE and _exists(s3, f"private/{compiled.file_name}")

    # Downloaded through the view that checks who asks, byte for byte what the worker stored.
    stored = s3.get_object(Bucket=BUCKET, Key=f"private/{export.file_name}")["Body"].read()
    download = reverse("deliverables:organise_packet_download", args=[petition.slug, export.pk])
    client.force_login(owner)
    response = client.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == stored
    client.force_login(organiser_of(ConfirmedSignatureFactory().petition))  # another petition's organiser
    assert client.get(download).status_code == 404
    assert not _keys(s3, "media/packets") and not _keys(s3, "media/letters")  # nothing private among public files

    # A delivery copies both into its own folder in the bucket and attaches them from there.
    delivery = delivery_create(
        petition=petition, method="email", exports=[export], compiles=[compiled], by=owner, message="Here."
    )
    delivery_send(delivery_id=delivery.pk)
    row = OutboundEmail.objects.get(idempotency_key=f"petition-delivery:{delivery.pk}")
    assert all(_exists(s3, f"private/{a['private']}") for a in row.attachments) and len(row.attachments) == 2
    outbound_email_send(email_id=row.pk)
    [message] = [m for m in mail.outbox if m.to == row.to]
    assert sorted(content[:5] for _name, content, _type in message.attachments) == [b"%PDF-", b"%PDF-"]


def test_a_file_cut_short_leaves_no_object_and_expiry_deletes_the_object(s3, petition, settings):
    with pytest.raises(RuntimeError), atomic_private_file("packets/cut-short.csv") as target:
        target.write(b"half a packet")
        raise RuntimeError("the worker died")
    assert not _exists(s3, "private/packets/cut-short.csv") and not private_exists("packets/cut-short.csv")

    owner = organiser_of(petition)
    ConfirmedSignatureFactory(petition=petition)
    export = packet_export_run(
        export_id=packet_export_request(petition=petition, kind="csv", include_emails=False, by=owner, role="owner").pk
    )
    key = f"private/{export.file_name}"
    assert _exists(s3, key)
    assert packet_exports_expire(now=timezone.now() + (export.expires_at - export.created_at) * 2) == 1
    assert not _exists(s3, key)


def test_without_a_bucket_nothing_changes_for_a_single_host(settings):
    """The embedded default and a single host keep their local folders: no S3 setting is on."""
    assert "private" not in settings.STORAGES and not os.environ.get("VIGIL_S3_BUCKET")


@pytest.mark.parametrize(
    ("media_domain", "expected"),
    [
        ("cdn.example.org", "https://cdn.example.org/media/a/b.jpg"),
        ("http://localhost:8000/objects/vigil/", "http://localhost:8000/objects/vigil/media/a/b.jpg"),
        ("https://example.org/files", "https://example.org/files/media/a/b.jpg"),
    ],
)
def test_media_addresses_follow_the_media_domain_with_or_without_a_scheme(media_domain, expected):
    options = s3_storages(bucket="b", media_domain=media_domain)["default"]["OPTIONS"]
    assert S3Storage(**options).url("a/b.jpg") == expected


def test_a_media_domain_with_another_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="VIGIL_S3_MEDIA_DOMAIN"):
        s3_storages(bucket="b", media_domain="ftp://example.org")
