"""The admin shows deliverables as the services wrote them: jobs and deliveries read-only, logs untouchable."""

import pytest
from django.urls import reverse

from accounts.roles import ORGANISERS
from deliverables.models import DeliveryLog, PacketExport, PrivateDownload
from deliverables.services.packets import packet_export_request, packet_export_run
from tests.deliverables.factories import organiser_of
from tests.factories import staff_user
from tests.petitions.factories import ConfirmedSignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = staff_user(ORGANISERS)
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def test_jobs_are_read_only_and_logs_cannot_be_changed_or_deleted(admin_client, petition):
    ConfirmedSignatureFactory(petition=petition)
    owner = organiser_of(petition)
    export = packet_export_run(
        export_id=packet_export_request(petition=petition, kind="csv", include_emails=False, by=owner, role="owner").pk
    )
    download = PrivateDownload.objects.create(petition=petition, kind="packet", object_id=export.pk, file_name="x.csv")
    for model in (PacketExport, PrivateDownload, DeliveryLog):
        name = f"admin:deliverables_{model._meta.model_name}"
        assert admin_client.get(reverse(f"{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"{name}_add")).status_code == 403

    page = admin_client.get(reverse("admin:deliverables_packetexport_change", args=[export.pk])).content.decode()
    assert export.rows_checksum in page and 'name="rows_checksum"' not in page  # shown, not editable

    delete = reverse("admin:deliverables_privatedownload_delete", args=[download.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert PrivateDownload.objects.filter(pk=download.pk).exists()
    change = reverse("admin:deliverables_privatedownload_change", args=[download.pk])
    admin_client.post(change, {"file_name": "other.csv"})
    download.refresh_from_db()
    assert download.file_name == "x.csv"
