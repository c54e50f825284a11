"""Each signature gets its id for the outside (the API's "vigil:<uuid>"), filled in for the signatures there are
(on PostgreSQL in one statement; a petition can hold millions), a default in the database for bulk loads, and the
index the API's pages read."""

import uuid

from django.db import migrations, models
from django.db.models import Q


def database_default(apps, schema_editor):
    """Bulk loads (COPY, INSERT ... SELECT) that name their columns get an id from the database itself."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE signatures_signature ALTER COLUMN public_id SET DEFAULT gen_random_uuid()")


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("UPDATE signatures_signature SET public_id = gen_random_uuid() WHERE public_id IS NULL")
        return
    Signature = apps.get_model("signatures", "Signature")
    for pk in Signature.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
        Signature.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("signatures", "0005_deliverables_own_app"), ("petitions", "0007_petition_public_id")]

    operations = [
        migrations.AddField(
            model_name="signature", name="public_id", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="signature",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.RunPython(database_default, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="signature",
            index=models.Index(
                fields=["petition", "id"], condition=Q(state="confirmed"), name="signature_api_page_idx"
            ),
        ),
    ]
