"""Each petition gets its id for the outside (the API's "vigil:<uuid>"), filled in for the petitions there are."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Petition = apps.get_model("petitions", "Petition")
    for pk in Petition.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
        Petition.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("petitions", "0006_deliverables_own_app_letters")]

    operations = [
        migrations.AddField(model_name="petition", name="public_id", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="petition",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
