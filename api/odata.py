"""The part of OData's $filter that OSDI and Action Network use: `field op 'value'`, joined by `and`, with the
operators eq, ne, gt, ge, lt and le, on the dates a collection allows (`modified_date gt '2026-01-01'`)."""

import re
from datetime import UTC, date, datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime

OPERATORS = {"eq": "", "ne": "", "gt": "__gt", "ge": "__gte", "lt": "__lt", "le": "__lte"}
_CLAUSE = re.compile(r"^\s*([a-z_]+)\s+(eq|ne|gt|ge|lt|le)\s+'([^']*)'\s*$")
MAX_LENGTH = 500


class FilterInvalid(ValueError):
    """The filter cannot be read; the message says what to write instead."""


def _moment(text: str) -> datetime:
    try:
        found = parse_datetime(text)
        if found is None:
            day = date.fromisoformat(text)
            found = datetime(day.year, day.month, day.day, tzinfo=UTC)
    except ValueError:
        found = None
    if found is None:
        raise FilterInvalid(f"'{text}' is not a date: write it as 2026-01-31 or 2026-01-31T09:30:00Z.")
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def filter_q(text: str, *, fields: dict[str, str]) -> Q:
    """A Q for `text`; `fields` maps the API's field names to the ORM's (for these, dates)."""
    if len(text) > MAX_LENGTH:
        raise FilterInvalid(f"A filter is at most {MAX_LENGTH} characters.")
    query = Q()
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if not match:
            raise FilterInvalid(
                f"Cannot read the filter '{clause.strip()}': write field operator 'value', e.g. "
                "modified_date gt '2026-01-01', joined by and."
            )
        name, operator, value = match.groups()
        if name not in fields:
            raise FilterInvalid(f"'{name}' cannot be filtered on here; these can: {', '.join(sorted(fields))}.")
        lookup = {fields[name] + OPERATORS[operator]: _moment(value)}
        query &= ~Q(**lookup) if operator == "ne" else Q(**lookup)
    return query
