"""Absolute links to the site, for what is read away from a request: e-mails, and files sent on.

Every such link is built here, from VIGIL_LINK_SCHEME (https unless DJANGO_HTTPS is off) and VIGIL_SITE_DOMAIN, so a
confirmation mail, a reply notice and allauth's messages all point at the same site the same way.
"""

import functools

from django.conf import settings
from django.urls import reverse


def absolute_url(path: str) -> str:
    """The site's path as a full address: /petitions/save-the-park/ → https://vigil.example.org/petitions/save-the-park/."""
    return f"{settings.VIGIL_LINK_SCHEME}://{settings.VIGIL_SITE_DOMAIN}{path}"


def link_pattern(name: str) -> str:
    """The absolute address of the URL `name` that takes one token, with "{token}" in its place: reversed once per
    process and site address (the outbox pump renders thousands of e-mails a second)."""
    return _link_pattern_for(name, settings.VIGIL_LINK_SCHEME, settings.VIGIL_SITE_DOMAIN, settings.ROOT_URLCONF)


@functools.cache
def _link_pattern_for(name: str, _scheme: str, _domain: str, _urlconf: str) -> str:
    placeholder = "TOKEN0PLACEHOLDER"
    return absolute_url(reverse(name, args=[placeholder])).replace(placeholder, "{token}")
