"""The page shell: security headers, no third-party requests, friendly error pages."""

import re

import pytest
from django.test import RequestFactory
from django_ratelimit.exceptions import Ratelimited

from core.views import ratelimited

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, str]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def test_content_security_policy_allows_only_the_site_itself(client):
    csp = _csp(client.get("/"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no other host
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    for value in csp.values():
        assert "http" not in value and "*" not in value and "unsafe" not in value


def test_other_security_headers(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_pages_reference_no_other_host_and_no_inline_script(client):
    html = client.get("/").content.decode()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "<script>" not in html and " on" + "click=" not in html


def test_layout_has_landmarks_and_a_skip_link(client):
    html = client.get("/").content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html and "<header" in html and "<footer" in html and "<nav" in html


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We can't find that page" in response.content.decode()


def test_rate_limited_request_is_a_friendly_429():
    request = RequestFactory().get("/")
    response = ratelimited(request, Ratelimited())
    assert response.status_code == 429
    assert "Wait a minute and try again" in response.content.decode()


def test_repeated_failed_sign_ins_are_refused_with_a_clear_message(client):
    for _ in range(6):
        response = client.post("/accounts/login/", {"login": "nobody@example.org", "password": "wrong password"})
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert 'value="nobody@example.org"' in response.content.decode()  # what was typed is kept
