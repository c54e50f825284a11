"""Reads of the ledger for the organisers' dashboard."""

import pytest

from signatures import selectors
from tests.petitions.factories import ConfirmedSignatureFactory, OpenPetitionFactory, PendingSignatureFactory

pytestmark = pytest.mark.django_db


def test_recent_signatures_page_newest_first_with_the_total_given_and_no_count(django_assert_num_queries):
    petition = OpenPetitionFactory()
    signatures = [ConfirmedSignatureFactory(petition=petition) for _ in range(3)] + [
        PendingSignatureFactory(petition=petition) for _ in range(2)
    ]
    newest_first = sorted(signatures, key=lambda s: (s.created_at, s.pk), reverse=True)
    with django_assert_num_queries(1) as captured:  # the page's rows only: the total comes from the tallies
        page = selectors.signatures_recent_page(petition_id=petition.pk, page_number=2, total=5, per_page=2)
        rows = list(page)
    assert "COUNT(" not in captured.captured_queries[0]["sql"].upper()
    assert [row.pk for row in rows] == [s.pk for s in newest_first[2:4]]
    assert (page.number, page.paginator.count, page.paginator.num_pages) == (2, 5, 3)
    last = selectors.signatures_recent_page(petition_id=petition.pk, page_number=99, total=5, per_page=2)
    assert last.number == 3 and [row.pk for row in last] == [newest_first[4].pk]
