"""Petitions written through the API. A token with the write scope starts new petitions and edits its own, in the
name of the person who made it, and only while that person could do the same on the organiser pages: starting one
needs an owner of the token's petition who may start petitions; editing needs an owner or organiser of it. Both go
through the organiser pages' own services (petitions.services.editing): the body sanitised, a slug made from the
title, a revision kept once anyone has signed."""

from django.db import transaction

from accounts.models import User
from api.models import ApiToken
from petitions.models import MembershipRole, Petition
from petitions.selectors import petition_member_allows
from petitions.services.editing import petition_create, petition_create_allowed, petition_save

# What the API writes of a petition, by the model's names.
EDITABLE = ("title", "body", "ask", "target_name", "target_organisation")
# What the edit page requires: once filled in, these may be changed but not emptied.
REQUIRED = ("title", "body", "ask", "target_name")


class WriteRefused(PermissionError):
    """The token may not make this change; the message says why."""


class PetitionInvalid(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The petition was not saved.")
        self.errors = errors  # by the model's field names


def _writer(*, token: ApiToken, role: str) -> User:
    """The token's maker, read afresh (the token itself may be a few seconds old), if their account is active and
    they still hold `role` on the token's petition."""
    if not token.can_write:
        raise WriteRefused("This token may only read. Ask the petition's owners for one that may write.")
    user = User.objects.filter(pk=token.created_by_id, is_active=True).first()
    if user is None or not petition_member_allows(petition_id=token.petition_id, user=user, role=role):
        held = "an owner" if role == MembershipRole.OWNER else "an owner or organiser"
        raise WriteRefused(
            f"The person who made this token is no longer {held} of its petition. Ask one of its owners for a new one."
        )
    return user


def _known(changes: dict[str, str]) -> None:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not written through the API: {', '.join(sorted(unknown))}")


def api_petition_create(*, token: ApiToken, changes: dict[str, str]) -> Petition:
    """A new draft with the given fields (a title at least), owned by the token's maker. The token stays its own
    petition's: the new one gets tokens of its own from its owners."""
    _known(changes)
    by = _writer(token=token, role=MembershipRole.OWNER)
    if not petition_create_allowed(user=by):
        raise WriteRefused("The person who made this token may not start petitions.")
    if not changes.get("title", "").strip():
        raise PetitionInvalid({"title": ["A petition needs a title."]})
    petition = Petition(**{field: changes.get(field, "") for field in EDITABLE})
    return petition_create(petition=petition, by=by)


def api_petition_update(*, token: ApiToken, changes: dict[str, str]) -> Petition:
    """The token's petition with the given fields changed and the others as they are. Nothing changed, nothing is
    written: a petition read and sent back as it is keeps its modified date."""
    _known(changes)
    by = _writer(token=token, role=MembershipRole.ORGANISER)
    with transaction.atomic():
        # Locked from the read to the write, so that a move between states made meanwhile is not written over.
        petition = Petition.objects.select_related("tally").select_for_update(of=("self",)).get(pk=token.petition_id)
        emptied = [field for field in REQUIRED
                   if field in changes and not changes[field].strip() and getattr(petition, field).strip()]  # fmt: skip
        if emptied:
            raise PetitionInvalid(dict.fromkeys(emptied, ["This may be changed, not emptied."]))
        changed = {field: value for field, value in changes.items() if getattr(petition, field) != value}
        if not changed:
            return petition
        for field, value in changed.items():
            setattr(petition, field, value)
        petition_save(petition=petition, by=by)
    # The token is kept for a few seconds by the process that looked it up: let it read the petition as now saved.
    token.petition = petition
    return petition
