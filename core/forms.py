"""Form fields that more than one app's forms use."""

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from core.images import ImageRejected, clean_image


class CleanImageField(forms.FileField):
    """An uploaded picture, checked by its content and replaced by its cleaned copy: stored without its metadata (a
    photo's GPS position). A plain file field underneath, so core.images decides what is an image, with its own
    clearer messages than forms.ImageField's."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not hasattr(upload, "content_type"):
            return upload  # unchanged or cleared: nothing new to check
        try:
            cleaned = clean_image(upload)  # validates as validate_image_upload does, then cleans
        except ImageRejected as exc:
            raise forms.ValidationError(exc.messages) from exc
        stem = upload.name.rsplit(".", 1)[0][:80] or "image"
        return SimpleUploadedFile(
            f"{stem}.{cleaned.extension}", cleaned.content, content_type=f"image/{cleaned.format}"
        )
