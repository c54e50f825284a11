"""Each letter gets its id for the outside (the API's "vigil:<uuid>"), filled in for those there are."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Model = apps.get_model("deliverables", "Letter")
    for pk in Model.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
        Model.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("deliverables", "0001_initial")]

    operations = [
        migrations.AddField(model_name="letter", name="public_id", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="letter",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
