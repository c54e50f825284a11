"""The only module that relies on another library's private names: each use is here, and each is pinned.

A helper sits here because the library offers no public way to do what Vigil needs. tests/core/test_compat.py
checks the exact behaviour each one relies on (not merely that a name still exists), so an upgrade that renames or
changes it fails there, naming the helper, rather than quietly in production. Anything that can go through a
library's public API does so, and stays out of this module.

- django-ratelimit: its cache keys, windows, rate parsing and client address. signatures.ratelimits counts the
  signing limits itself, in one Redis call, in the very keys that django-ratelimit's `is_ratelimited` counts in
  (the other forms use it, and so does signing when the cache is not Redis) and under the same RATELIMIT_*
  settings. Its public API counts and answers, but never says which key it counted in or when that key expires.
- Django forms: `Form._clean_fields`, the per-field step of `full_clean()`. Django builds a BoundField for every
  field there; a form validated far more often than it is shown can skip them (PlainFieldsCleanMixin). Django has
  no public hook for the per-field loop: `full_clean()` would mean copying the rest of it too.
"""

from django import forms
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_ip, _get_window, _make_cache_key, _split_rate

__all__ = ["PlainFieldsCleanMixin", "ratelimit_client_ip", "ratelimit_counter"]


def ratelimit_client_ip(request: HttpRequest) -> str:
    """What django-ratelimit's `key="ip"` counts for this request: the address RATELIMIT_IP_META_KEY gives, masked by
    RATELIMIT_IPV4_MASK or RATELIMIT_IPV6_MASK."""
    return _get_ip(request)


def ratelimit_period(rate: str) -> int:
    """The seconds of a django-ratelimit rate's window ("10/h": 3600, "5/10m": 600): how long to say to wait."""
    return _split_rate(rate)[1]


def ratelimit_counter(*, group: str, rate: str, value: str) -> tuple[str, int, int]:
    """Where django-ratelimit's `is_ratelimited(group=group, rate=rate, method=ALL)` counts `value` at this moment:
    the cache key (before the cache's own KEY_PREFIX and version), the rate's limit, and the expiry in seconds that
    it gives a new counter (the rate's period plus its margin)."""
    limit, period = _split_rate(rate)
    key = _make_cache_key(group, _get_window(value, period), rate, value, ALL)
    return key, limit, period + EXPIRATION_FUDGE


class PlainFieldsCleanMixin:
    """Validates a form without building a BoundField per field, answering exactly as Django's own loop does.

    For a form that is validated on every request of a surge but shown only when something is wrong: the BoundFields
    are built when it is shown. Its fields must all be plain: no file fields, none disabled (Django reads those from
    the initial data, through the BoundField)."""

    def _clean_fields(self) -> None:
        for name, field in self.fields.items():
            value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            try:
                self.cleaned_data[name] = field.clean(value)
                clean = getattr(self, f"clean_{name}", None)
                if clean is not None:
                    self.cleaned_data[name] = clean()
            except forms.ValidationError as error:
                self.add_error(name, error)
