from django.db import migrations


def create_counters(apps, schema_editor):
    QueueCounter = apps.get_model("comments", "QueueCounter")
    for kind in ("flagged", "held"):
        QueueCounter.objects.get_or_create(kind=kind)


class Migration(migrations.Migration):
    dependencies = [("comments", "0001_initial")]

    operations = [migrations.RunPython(create_counters, migrations.RunPython.noop)]
