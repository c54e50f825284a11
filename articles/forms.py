from django import forms

from articles.models import ArticleImage
from core.forms import CleanImageField


class ArticleImageForm(forms.ModelForm):
    """An uploaded picture is checked by its content and stored without its metadata (a photo's GPS position)."""

    class Meta:
        model = ArticleImage
        fields = ["image", "alt_text", "caption", "credit", "position"]
        field_classes = {"image": CleanImageField}
