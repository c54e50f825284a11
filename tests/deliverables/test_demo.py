import pytest

from deliverables.demo import COALITION_SLUG, SHAREHOLDER_SLUG, demo_deliverables_ensure
from deliverables.models import LetterState, SignOn
from deliverables.services.letters import letter_compile_request, letter_compile_run
from tests.deliverables.factories import organiser_of

pytestmark = pytest.mark.django_db


def test_demo_letters_are_created_once_with_logos_and_compile(client, petition):
    organiser = organiser_of(petition)
    demo_deliverables_ensure(petition=petition, organiser=organiser)
    demo_deliverables_ensure(petition=petition, organiser=organiser)
    coalition = petition.letters.get(slug=COALITION_SLUG)
    shareholders = petition.letters.get(slug=SHAREHOLDER_SLUG)
    assert coalition.state == shareholders.state == LetterState.OPEN
    assert SignOn.objects.verified().filter(letter=coalition).count() == 70
    assert SignOn.objects.verified().filter(letter=shareholders).count() == 17
    assert all(s.renditions for s in SignOn.objects.filter(letter=coalition))
    compiled = letter_compile_run(compile_id=letter_compile_request(letter=coalition, by=None, queue=False).pk)
    assert compiled.state == "done" and compiled.signatory_count == 70
    html = client.get(coalition.get_absolute_url()).content.decode()
    assert "70 signatories" in html and "<img" in html
