"""The sign form validates without building BoundFields (a hot path); it must answer exactly as Django's loop does."""

import pytest
from django import forms

from petitions.forms import SignForm
from tests.signatures.helpers import form_data

pytestmark = pytest.mark.django_db

CASES = [
    {},
    {"first_name": "<b>Ann</b>", "email": "no at sign", "country": "XX"},
    {"last_name": "", "postal_code": "x" * 40, "town": "Glas\x07gow"},
    {"email": "Ann.Smith+tag@GoogleMail.com", "show_publicly": "", "contact_ok": "on"},
]


@pytest.mark.parametrize("overrides", CASES)
@pytest.mark.parametrize("postal_code_required", [False, True])
def test_the_sign_form_answers_as_djangos_own_loop(overrides, postal_code_required):
    from tests.petitions.factories import OpenPetitionFactory

    petition = OpenPetitionFactory(postal_code_required=postal_code_required)
    data = form_data(**overrides)
    ours = SignForm(data, petition=petition)
    theirs = SignForm(data, petition=petition)
    theirs._clean_fields = lambda: forms.Form._clean_fields(theirs)
    assert ours.is_valid() == theirs.is_valid()
    assert ours.errors == theirs.errors
    assert ours.cleaned_data == theirs.cleaned_data
