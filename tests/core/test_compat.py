"""What core.compat relies on in other libraries' private names, pinned: an upgrade that changes it fails here.

Each test checks the helper against the library's public behaviour (django-ratelimit's `is_ratelimited`, Django's
`Form.is_valid`), so it fails when the private name changes meaning, not only when it disappears.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django import forms
from django.conf import settings
from django.core.cache import caches
from django.test import RequestFactory
from django_ratelimit.core import is_ratelimited

from core.compat import PlainFieldsCleanMixin, ratelimit_client_ip, ratelimit_counter
from signatures.ratelimits import redis_client

START = datetime(2026, 3, 2, 9, 0, 7, tzinfo=UTC)


def _cache():
    return caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]


def _count(request, *, group, rate, value=None):
    key = "ip" if value is None else (lambda _group, _request: value)
    return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)


@pytest.mark.parametrize(
    ("rate", "limit", "period"), [("3/s", 3, 1), ("10/h", 10, 3600), ("30/10m", 30, 600), ("5/d", 5, 86400)]
)
def test_ratelimit_counter_is_the_key_django_ratelimit_counts_in(time_machine, rate, limit, period):
    time_machine.move_to(START, tick=False)
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    group = f"compat:{rate}"
    for _ in range(limit + 1):
        _count(request, group=group, rate=rate, value="petition-1:ann@example.org")
    key, found_limit, ttl = ratelimit_counter(group=group, rate=rate, value="petition-1:ann@example.org")
    assert (found_limit, ttl) == (limit, period + 5)
    assert _cache().get(key) == limit + 1
    assert _count(request, group=group, rate=rate, value="petition-1:ann@example.org") is True  # over the limit

    # The next window is a new key, for django-ratelimit and for the helper alike.
    time_machine.move_to(START + timedelta(seconds=period), tick=False)
    assert ratelimit_counter(group=group, rate=rate, value="petition-1:ann@example.org")[0] != key
    assert _count(request, group=group, rate=rate, value="petition-1:ann@example.org") is False
    assert _cache().get(ratelimit_counter(group=group, rate=rate, value="petition-1:ann@example.org")[0]) == 1


def test_ratelimit_counter_gives_the_expiry_django_ratelimit_sets():
    if redis_client() is None:
        pytest.skip("the expiry is read from Redis")
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    _count(request, group="compat:expiry", rate="10/h", value="v")
    key, _limit, ttl = ratelimit_counter(group="compat:expiry", rate="10/h", value="v")
    assert ttl - 2 <= redis_client().ttl(_cache().make_key(key)) <= ttl


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"REMOTE_ADDR": "198.51.100.7"}, "198.51.100.7"),
        ({"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::"),  # IPv6 counted per /64 (RATELIMIT_IPV6_MASK)
    ],
)
def test_ratelimit_client_ip_is_what_key_ip_counts(settings, meta, expected):
    settings.VIGIL_TRUSTED_PROXIES = []
    request = RequestFactory().post("/", **meta)
    assert ratelimit_client_ip(request) == expected
    _count(request, group="compat:ip", rate="10/h")
    assert _cache().get(ratelimit_counter(group="compat:ip", rate="10/h", value=expected)[0]) == 1


def _no_q(value):
    if "q" in value:
        raise forms.ValidationError("No q.")
    return value.upper()


class _Plain(forms.Form):
    name = forms.CharField(max_length=5)
    email = forms.EmailField(required=False)
    age = forms.IntegerField(min_value=0, required=False)
    agree = forms.BooleanField(required=False)
    colour = forms.ChoiceField(choices=[("r", "Red"), ("g", "Green")])
    note = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_name(self):
        return _no_q(self.cleaned_data["name"])

    def clean_note(self):
        if self.cleaned_data.get("age") == 7:  # a later field's method sees the fields cleaned before it
            raise forms.ValidationError("Not at seven.")
        return self.cleaned_data["note"]


class _Ours(PlainFieldsCleanMixin, _Plain):
    pass


DATA = [
    {},
    {"name": "ann", "colour": "r"},
    {"name": "quite too long", "email": "no at sign", "age": "-1", "colour": "x", "agree": "on"},
    {"name": "qq", "age": "7", "colour": "g", "note": "hi"},
    {"name": "ann", "email": "ann@example.org", "age": "seven", "colour": "g"},
]


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("prefix", [None, "sign"])
def test_plain_fields_clean_answers_as_djangos_own_loop(data, prefix):
    posted = {f"{prefix}-{key}" if prefix else key: value for key, value in data.items()}
    ours, theirs = _Ours(posted, prefix=prefix), _Plain(posted, prefix=prefix)
    assert ours.is_valid() == theirs.is_valid()
    assert ours.errors == theirs.errors
    assert ours.cleaned_data == theirs.cleaned_data


def test_full_clean_validates_fields_through_the_mixin(monkeypatch):
    """Form.full_clean() calls _clean_fields: if it stopped, Django's loop would run instead and build BoundFields."""
    built = []
    original = forms.Field.get_bound_field
    monkeypatch.setattr(forms.Field, "get_bound_field", lambda *args: built.append(args) or original(*args))
    data = {"name": "ann", "colour": "r", "age": "3"}  # valid: an error builds its field's BoundField (add_error)
    assert _Ours(data).is_valid()
    assert built == []
    assert _Plain(data).is_valid()
    assert built  # the check can fail: Django's own loop builds them
