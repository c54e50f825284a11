"""The client's address: taken only from what trusted proxies say, and the same for allauth and for rate limits."""

import pytest
from allauth.core.internal.httpkit import get_client_ip as allauth_client_ip
from django.test import RequestFactory

from core.net import client_ip

CASES = [
    # (proxy count, header, META, expected)
    (0, None, {"REMOTE_ADDR": "198.51.100.7"}, "198.51.100.7"),
    (0, None, {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.1"}, "198.51.100.7"),
    (1, None, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9"}, "203.0.113.9"),
    (
        2,
        None,
        {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9, 10.0.0.3"},
        "203.0.113.9",
    ),
    (1, None, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "2001:db8::5"}, "2001:db8::5"),
    (0, "X-Real-IP", {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_REAL_IP": "192.0.2.44"}, "192.0.2.44"),
]


@pytest.mark.parametrize(("count", "header", "meta", "expected"), CASES)
def test_client_ip_follows_the_trusted_proxies_and_agrees_with_allauth(settings, count, header, meta, expected):
    settings.VIGIL_TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = count
    settings.VIGIL_TRUSTED_CLIENT_IP_HEADER = settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = header
    request = RequestFactory().get("/", **meta)
    assert client_ip(request) == expected
    assert allauth_client_ip(request) == expected


def test_spoofed_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.VIGIL_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert client_ip(request) == "198.51.100.7"


def test_garbage_in_the_header_falls_back_to_the_socket_address(settings):
    settings.VIGIL_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="<script>")
    assert client_ip(request) == "198.51.100.7"


def test_settings_point_allauth_and_ratelimit_at_the_same_source(settings):
    assert settings.RATELIMIT_IP_META_KEY == "core.net.client_ip"
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == settings.VIGIL_TRUSTED_PROXY_COUNT
    assert settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER == settings.VIGIL_TRUSTED_CLIENT_IP_HEADER
