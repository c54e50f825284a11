from django.utils.functional import SimpleLazyObject

from articles.selectors import sections_for_navigation


def navigation(request):
    """Sections for the header, loaded only when a template shows them."""
    return {"nav_sections": SimpleLazyObject(sections_for_navigation)}
