"""schemathesis against the API's own OpenAPI document, in process: every operation with generated requests (valid
and not), with a live token of a petition that has signatures. No answer may be a server error, and every answer
must be one the document lists, in its content type and shape. Examples are bounded so that `make test` stays short.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from api.services.tokens import api_token_create
from deliverables.models import SignOnState
from tests.deliverables.factories import OpenLetterFactory, SignOnFactory, organiser_of
from tests.factories import PublishedArticleFactory
from tests.petitions.factories import ConfirmedSignatureFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db

EXAMPLES = 25
# Not checked: that every schema-valid request is accepted. A filter is any string to JSON Schema, but only a few
# are filters ("modified_date gt '2026-01-01'"), and the others are refused with 400 and what to write instead.


@pytest.fixture
def wsgi_app(db):
    # As Django's test client does: the handler must not close the test's connection between requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_answer_is_one_the_schema_lists(wsgi_app):
    petition = OpenPetitionFactory()
    ConfirmedSignatureFactory.create_batch(3, petition=petition)
    token = api_token_create(petition=petition, by=organiser_of(petition), name="fuzz", can_write=True).secret
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # entry point, 4 reads, the helper at 2 addresses, starting and editing a petition, 5 public reads
    assert len(operations) == 14

    signature = petition.signatures.first()
    letter = OpenLetterFactory(petition=petition)
    SignOnFactory(letter=letter, state=SignOnState.VERIFIED)
    article = PublishedArticleFactory(related_petition=petition)
    real = {"petition_id": str(petition.public_id), "signature_id": str(signature.public_id),
            "letter_id": str(letter.public_id), "article_id": str(article.public_id)}  # fmt: skip
    for operation in operations:
        _checker(operation, token, ids=None)()  # made-up ids: 404s
        _checker(operation, token, ids=real)()  # this petition's, and one of its signatures'


def _checker(operation, token: str, *, ids: dict | None):
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        if ids and case.path_parameters:
            case.path_parameters = {name: ids[name] for name in case.path_parameters}
        case.call_and_validate(headers={"OSDI-API-Token": token}, excluded_checks=[positive_data_acceptance])

    return check
