"""Where a personal value is still held: every text and JSON column of every table (found by introspecting the
models, not by listing the fields we expect), and every file under the site's file roots."""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models.functions import Cast

TEXT_FIELDS = (models.CharField, models.TextField, models.FileField)  # also EmailField, URLField, SlugField


def database_traces(value: str) -> list[str]:
    """ "app.Model.field (n rows)" for each column holding `value` (case-insensitive)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_FIELDS):
                rows = model._default_manager.filter(**{f"{field.attname}__icontains": value})
            elif isinstance(field, models.JSONField):
                rows = model._default_manager.annotate(_as_text=Cast(field.attname, models.TextField())).filter(
                    _as_text__icontains=value
                )
            else:
                continue
            count = rows.count()
            if count:
                found.append(f"{model._meta.label}.{field.name} ({count} rows)")
    return found


def file_traces(value: str) -> list[str]:
    """Files under MEDIA_ROOT, VIGIL_PRIVATE_ROOT and the e-mail file directory that contain `value`."""
    needle = value.lower().encode()
    found = []
    roots = {Path(settings.MEDIA_ROOT), Path(settings.VIGIL_PRIVATE_ROOT), Path(settings.EMAIL_FILE_PATH)}
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file() and needle in path.read_bytes().lower():
                found.append(str(path))
    return found
