"""Absolute links to the site, for what is read away from a request: e-mails, and files sent on.

Every such link is built here, from VIGIL_LINK_SCHEME (https unless DJANGO_HTTPS is off) and VIGIL_SITE_DOMAIN, so a
confirmation mail, a reply notice and allauth's messages all point at the same site the same way.
"""

from django.conf import settings


def absolute_url(path: str) -> str:
    """The site's path as a full address: /petitions/save-the-park/ → https://vigil.example.org/petitions/save-the-park/."""
    return f"{settings.VIGIL_LINK_SCHEME}://{settings.VIGIL_SITE_DOMAIN}{path}"
