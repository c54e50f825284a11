"""The client's address: taken from forwarding headers only when the request comes from a listed proxy, and the
same for allauth (its adapter) and for rate limits."""

import os
import subprocess
import sys

import pytest
from allauth.account.adapter import get_adapter
from django.test import RequestFactory

from core.net import client_ip
from tests.conftest import ROOT

PROXIES = ["10.0.0.0/24", "2001:db8:ffff::/48"]
CASES = [
    # (trusted proxies, proxy count, header, META, expected)
    ([], 0, None, {"REMOTE_ADDR": "198.51.100.7"}, "198.51.100.7"),
    ([], 0, None, {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.1"}, "198.51.100.7"),
    (PROXIES, 1, None, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9"}, "203.0.113.9"),
    (
        PROXIES,
        2,
        None,
        {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9, 10.0.0.3"},
        "203.0.113.9",
    ),
    (PROXIES, 1, None, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "2001:db8::5"}, "2001:db8::5"),
    (PROXIES, 0, "X-Real-IP", {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_REAL_IP": "192.0.2.44"}, "192.0.2.44"),
    (PROXIES, 1, None, {"REMOTE_ADDR": "2001:db8:ffff::1", "HTTP_X_FORWARDED_FOR": "192.0.2.8"}, "192.0.2.8"),
    # Whoever connects from outside the listed proxies is the client, whatever headers it writes.
    (PROXIES, 1, None, {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}, "198.51.100.7"),
    (PROXIES, 0, "X-Real-IP", {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_REAL_IP": "10.0.0.9"}, "198.51.100.7"),
]


@pytest.mark.parametrize(("proxies", "count", "header", "meta", "expected"), CASES)
def test_client_ip_believes_only_the_listed_proxies_and_agrees_with_allauth(settings, proxies, count, header, meta,
                                                                           expected):  # fmt: skip
    settings.VIGIL_TRUSTED_PROXIES = proxies
    settings.VIGIL_TRUSTED_PROXY_COUNT = count
    settings.VIGIL_TRUSTED_CLIENT_IP_HEADER = header
    request = RequestFactory().get("/", **meta)
    assert client_ip(request) == expected
    assert get_adapter(request).get_client_ip(request) == expected


def test_garbage_in_the_header_falls_back_to_the_socket_address(settings):
    settings.VIGIL_TRUSTED_PROXIES, settings.VIGIL_TRUSTED_PROXY_COUNT = PROXIES, 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>")
    assert client_ip(request) == "10.0.0.2"


def test_settings_point_allauth_and_ratelimit_at_the_same_source(settings):
    assert settings.RATELIMIT_IP_META_KEY == "core.net.client_ip"
    assert settings.ACCOUNT_ADAPTER == "accounts.adapter.AccountAdapter"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DJANGO_TRUSTED_PROXY_COUNT": "1"}, "need DJANGO_TRUSTED_PROXIES"),
        ({"DJANGO_TRUSTED_PROXIES": "10.0.0.0/33"}, "DJANGO_TRUSTED_PROXIES"),
    ],
)
def test_a_proxy_count_without_the_proxies_listed_is_refused_at_start(environment, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **environment})
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0 and message in done.stderr
