"""Each article gets its id for the outside (the API's "vigil:<uuid>"), filled in for those there are."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Model = apps.get_model("articles", "Article")
    for pk in Model.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
        Model.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("articles", "0004_article_related_petition")]

    operations = [
        migrations.AddField(model_name="article", name="public_id", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="article",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
