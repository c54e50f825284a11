from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from articles.models import ArticleImage
from core.images import ImageRejected, clean_image, validate_image_upload


class ArticleImageForm(forms.ModelForm):
    """An uploaded picture is checked by its content and stored without its metadata (a photo's GPS position)."""

    class Meta:
        model = ArticleImage
        fields = ["image", "alt_text", "caption", "credit", "position"]
        # A plain file field: core.images decides what is an image, with its own clearer messages.
        field_classes = {"image": forms.FileField}

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if upload is None or upload is False or not hasattr(upload, "content_type"):
            return upload  # unchanged or cleared: nothing new to check
        try:
            validate_image_upload(upload)
            cleaned = clean_image(upload)
        except ImageRejected as exc:
            raise forms.ValidationError(exc.messages) from exc
        stem = upload.name.rsplit(".", 1)[0][:80] or "image"
        return SimpleUploadedFile(
            f"{stem}.{cleaned.extension}", cleaned.content, content_type=f"image/{cleaned.format}"
        )
