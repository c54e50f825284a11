"""Starting and editing petitions through the API: in the name of the token's maker, through the organiser pages'
own services, with the fields a whole object read from the API carries accepted and left alone."""

import json

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import ORGANISERS
from api.models import ApiToken
from api.services.tokens import api_token_create
from petitions.models import MembershipRole, Petition, PetitionMembership, PetitionRevision, PetitionStatus
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import ClosedPetitionFactory, ConfirmedSignatureFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db

HOSTILE = ('<p>Why.</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
           '<a href="javascript:alert(3)">click</a><p style="color:red" onclick="alert(4)">Styled</p>')  # fmt: skip


def _token(petition, owner, *, can_write=True) -> str:
    return api_token_create(petition=petition, by=owner, name="crm", can_write=can_write).secret


def _send(client, method: str, path: str, body, token: str):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    call = client.post if method == "POST" else client.put
    return call(path, data=data, content_type="application/json", HTTP_OSDI_API_TOKEN=token)


def _create(client, body, token: str, path: str = "/api/v1/petitions"):
    return _send(client, "POST", path, body, token)


def _update(client, petition, body, token: str):
    return _send(client, "PUT", f"/api/v1/petitions/{petition.public_id}", body, token)


NEW = {"title": "Light the bridge", "description": "<p>It is dark.</p>", "petition_text": "Put lights on the bridge.",
       "target": [{"name": "The Mayor", "organization": "City Hall"}]}  # fmt: skip


# --- Starting a petition ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/petitions", "/api/v1/petitions/"])
def test_a_token_starts_a_draft_owned_by_its_maker(client, petition, owner, path):
    answer = _create(client, NEW, _token(petition, owner), path)
    assert answer.status_code == 201, answer.content  # answered in place, with or without the slash
    assert answer["Content-Type"].startswith("application/hal+json")
    created = Petition.objects.exclude(pk=petition.pk).get()
    assert (created.title, created.body, created.ask, created.target_name, created.target_organisation) == (
        "Light the bridge", "<p>It is dark.</p>", "Put lights on the bridge.", "The Mayor", "City Hall")  # fmt: skip
    assert created.status == PetitionStatus.DRAFT and created.created_by == owner
    assert created.slug == "light-the-bridge"
    assert list(created.memberships.values_list("user", "role")) == [(owner.pk, MembershipRole.OWNER)]
    body = answer.json()
    assert body["identifiers"] == [f"vigil:{created.public_id}"] and body["vigil:status"] == "draft"
    assert (body["title"], body["petition_text"]) == ("Light the bridge", "Put lights on the bridge.")
    assert body["target"] == [{"name": "The Mayor", "organization": "City Hall"}]
    assert body["total_signatures"] == 0
    assert body["_links"]["self"]["href"] == f"http://testserver/api/v1/petitions/{created.public_id}"


def test_the_answer_is_what_reading_the_petition_gives(client, petition, owner):
    created = _create(client, NEW, _token(petition, owner)).json()
    new = Petition.objects.get(public_id=created["identifiers"][0].removeprefix("vigil:"))
    own_token = _token(new, owner)  # the new petition's owners make its tokens
    read = client.get(f"/api/v1/petitions/{new.public_id}", HTTP_OSDI_API_TOKEN=own_token).json()
    assert read == created


def test_the_token_goes_on_reading_its_own_petition_only(client, petition, owner):
    token = _token(petition, owner)
    created = _create(client, NEW, token).json()
    assert client.get(created["_links"]["self"]["href"], HTTP_OSDI_API_TOKEN=token).status_code == 404
    listed = client.get("/api/v1/petitions", HTTP_OSDI_API_TOKEN=token).json()["_embedded"]["osdi:petitions"]
    assert [item["title"] for item in listed] == [petition.title]


def test_a_title_alone_is_enough_for_a_draft(client, petition, owner):
    answer = _create(client, {"title": "  Just a title  "}, _token(petition, owner))
    assert answer.status_code == 201, answer.content
    created = Petition.objects.get(slug="just-a-title")
    assert (created.title, created.ask, created.body, created.target_name) == ("Just a title", "", "", "")


def test_addresses_are_made_from_titles_and_never_shared(client, petition, owner):
    token = _token(petition, owner)
    titles = ["Light the bridge", "Light the bridge!", "LIGHT THE BRIDGE", "Ελλάδα", "日本", "New"]
    slugs = [_create(client, {"title": title}, token).json()["browser_url"].rsplit("/", 2)[1] for title in titles]
    assert slugs == ["light-the-bridge", "light-the-bridge-2", "light-the-bridge-3", "petition", "petition-2",
                     "new-2"]  # fmt: skip
    long = _create(client, {"title": "word " * 40}, token).json()["browser_url"].rsplit("/", 2)[1]
    assert len(long) <= 200 and not long.endswith("-")


def test_hostile_html_in_the_description_is_removed(client, petition, owner):
    answer = _create(client, {"title": "Safe", "description": HOSTILE}, _token(petition, owner))
    assert answer.status_code == 201
    stored = Petition.objects.get(slug="safe").body
    for bad in ("<script", "alert(1)", "onerror", "javascript:", "onclick", "style="):
        assert bad not in stored and bad not in answer.json()["description"], bad
    assert "<p>Why.</p>" in stored and "Styled" in stored


def test_read_only_fields_sent_back_are_accepted_and_not_kept(client, petition, owner):
    token = _token(petition, owner)
    whole = client.get(f"/api/v1/petitions/{petition.public_id}", HTTP_OSDI_API_TOKEN=token).json()
    whole |= {"title": "A copy of it", "vigil:status": "delivered", "total_signatures": 999_999,
              "origin_system": "Elsewhere", "featured_image_url": "https://elsewhere.example/x.png"}  # fmt: skip
    answer = _create(client, whole, token)
    assert answer.status_code == 201, answer.content
    copy = Petition.objects.get(slug="a-copy-of-it")
    assert copy.public_id != petition.public_id and copy.status == PetitionStatus.DRAFT and not copy.image
    assert (copy.ask, copy.body, copy.target_name) == (petition.ask, petition.body, petition.target_name)
    body = answer.json()
    assert body["identifiers"] == [f"vigil:{copy.public_id}"] and body["total_signatures"] == 0
    assert body["origin_system"] == "Vigil" and body["vigil:status"] == "draft"


# --- Refusals, with nothing written -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"description": "No title"}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 201}, "title"),
        ({**NEW, "petition_text": "x" * 301}, "petition_text"),
        ({**NEW, "target": [{"name": "x" * 201}]}, "target.0.name"),
        ({**NEW, "target": [{"name": "A"}, {"name": "B"}]}, "target"),
        ({**NEW, "target": "The Mayor"}, "target"),
        ({**NEW, "target": [{"name": "A", "email": "a@example.org"}]}, "target.0.email"),
        ({"title": 5}, "title"),
        ({"title": ["Light"]}, "title"),
        ({"title": "Nul\x00here"}, "title"),
        ({**NEW, "description": "Nul\x00here"}, "description"),
        ({**NEW, "favourite_colour": "green"}, "favourite_colour"),
        ({**NEW, "status": "open"}, "status"),
        ([], "body"),
    ],
)
def test_a_bad_petition_is_refused_field_by_field_and_nothing_is_written(client, petition, owner, body, where):
    before = (Petition.objects.count(), PetitionMembership.objects.count())
    answer = _create(client, body, _token(petition, owner))
    assert answer.status_code == 400, answer.content
    assert where in answer.json()["errors"], answer.json()
    assert (Petition.objects.count(), PetitionMembership.objects.count()) == before


@pytest.mark.parametrize("raw", ["{not json", '{"title": ', "null", '"Light the bridge"', ""])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_malformed_json_is_a_400(client, petition, owner, raw, method):
    path = "/api/v1/petitions" if method == "POST" else f"/api/v1/petitions/{petition.public_id}"
    answer = _send(client, method, path, raw, _token(petition, owner))
    assert answer.status_code == 400 and answer.json()["error"]
    assert Petition.objects.count() == 1
    assert Petition.objects.get().title == petition.title


# --- Editing the token's petition -------------------------------------------------------------------------------


def test_a_token_edits_its_petition_s_text(client, petition, owner):
    token = _token(petition, owner)
    change = {"title": "Stop it now", "description": "<p>Now.</p>", "petition_text": "Stop it.",
              "target": [{"name": "The Minister"}]}  # fmt: skip
    answer = _update(client, petition, change, token)
    assert answer.status_code == 200, answer.content
    petition.refresh_from_db()
    assert (petition.title, petition.body, petition.ask, petition.target_name, petition.target_organisation) == (
        "Stop it now", "<p>Now.</p>", "Stop it.", "The Minister", "")  # fmt: skip
    assert petition.status == PetitionStatus.OPEN and petition.slug.startswith("stop-the-thing")  # address kept
    assert answer.json()["title"] == "Stop it now" and answer.json()["target"] == [{"name": "The Minister"}]
    read = client.get(f"/api/v1/petitions/{petition.public_id}/", HTTP_OSDI_API_TOKEN=token).json()
    assert read["title"] == "Stop it now"  # at once, though the token is trusted for a few seconds


def test_what_is_left_out_or_null_stays_as_it_is(client, petition, owner):
    before = (petition.body, petition.ask, petition.target_name, petition.target_organisation)
    change = {"title": "Only the title", "description": None, "petition_text": None, "target": []}
    assert _update(client, petition, change, _token(petition, owner)).status_code == 200
    petition.refresh_from_db()
    assert petition.title == "Only the title"
    assert (petition.body, petition.ask, petition.target_name, petition.target_organisation) == before


def test_a_petition_read_and_sent_back_whole_changes_nothing(client, petition, owner):
    ConfirmedSignatureFactory(petition=petition)
    token = _token(petition, owner)
    path = f"/api/v1/petitions/{petition.public_id}"
    whole = client.get(path, HTTP_OSDI_API_TOKEN=token).json()
    modified = Petition.objects.get(pk=petition.pk).updated_at
    answer = _update(client, petition, whole, token)
    assert answer.status_code == 200, answer.content
    assert Petition.objects.get(pk=petition.pk).updated_at == modified and not PetitionRevision.objects.exists()
    whole |= {"title": "Renamed", "vigil:status": "archived", "identifiers": ["vigil:someone-else"]}
    assert _update(client, petition, whole, token).status_code == 200
    petition.refresh_from_db()
    assert petition.title == "Renamed" and petition.status == PetitionStatus.OPEN


def test_once_signed_the_earlier_text_is_kept_as_a_revision(client, petition, owner):
    ConfirmedSignatureFactory(petition=petition)
    earlier = (petition.ask, petition.body)
    change = {"petition_text": "Stop it for good.", "description": "<p>Longer reasons.</p>"}
    assert _update(client, petition, change, _token(petition, owner)).status_code == 200
    revision = PetitionRevision.objects.get(petition=petition)
    assert (revision.number, revision.ask, revision.body, revision.changed_by) == (1, *earlier, owner)
    page = client.get(reverse("petitions:revisions", args=[petition.slug]))
    assert page.status_code == 200 and earlier[0] in page.content.decode()


def test_a_change_of_title_alone_keeps_no_revision(client, petition, owner):
    ConfirmedSignatureFactory(petition=petition)
    assert _update(client, petition, {"title": "Renamed"}, _token(petition, owner)).status_code == 200
    assert not PetitionRevision.objects.exists()


def test_hostile_html_in_an_edit_is_removed(client, petition, owner):
    assert _update(client, petition, {"description": HOSTILE}, _token(petition, owner)).status_code == 200
    petition.refresh_from_db()
    assert "<script" not in petition.body and "onerror" not in petition.body and "javascript:" not in petition.body


def test_a_closed_petition_is_edited_as_on_the_organiser_pages(client):
    closed = ClosedPetitionFactory()
    owner = organiser_of(closed)
    answer = _update(client, closed, {"title": "Still closed"}, _token(closed, owner))
    assert answer.status_code == 200 and answer.json()["vigil:status"] == "closed"
    client.force_login(owner)  # the edit page takes the same change
    assert client.get(reverse("petitions:organise_edit", args=[closed.slug])).status_code == 200


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"title": "Fine", "petition_text": ""}, "petition_text"),
        ({"title": "Fine", "description": "  "}, "description"),
        ({"title": "Fine", "target": [{"name": ""}]}, "target.0.name"),
        ({"title": "Fine", "target": [{"name": "x" * 201}]}, "target.0.name"),
        ({"title": ""}, "title"),
        ({"title": "Fine", "email": "x@example.org"}, "email"),
    ],
)
def test_a_bad_edit_changes_nothing(client, petition, owner, change, where):
    ConfirmedSignatureFactory(petition=petition)
    before = Petition.objects.filter(pk=petition.pk).values().get()
    answer = _update(client, petition, change, _token(petition, owner))
    assert answer.status_code == 400, answer.content
    assert where in answer.json()["errors"], answer.json()
    assert Petition.objects.filter(pk=petition.pk).values().get() == before
    assert not PetitionRevision.objects.exists()


def test_an_empty_draft_can_be_sent_back_as_it_was_read(client, petition, owner):
    token = _token(petition, owner)
    draft = Petition.objects.get(public_id=_create(client, {"title": "Bare"}, token).json()["identifiers"][0][6:])
    own = _token(draft, owner)
    whole = client.get(f"/api/v1/petitions/{draft.public_id}", HTTP_OSDI_API_TOKEN=own).json()
    assert whole["target"] == [{"name": ""}] and whole["petition_text"] == ""
    assert _update(client, draft, whole | {"petition_text": "Now an ask."}, own).status_code == 200
    draft.refresh_from_db()
    assert draft.ask == "Now an ask." and draft.target_name == ""


def test_another_petition_s_token_finds_nothing_to_edit(client, petition, owner):
    other = OpenPetitionFactory()
    answer = _update(client, petition, {"title": "Taken over"}, _token(other, organiser_of(other)))
    assert answer.status_code == 404 and answer.json()["error"]
    petition.refresh_from_db()
    assert petition.title != "Taken over"


def test_a_read_only_token_writes_nothing(client, petition, owner):
    token = _token(petition, owner, can_write=False)
    for answer in (_create(client, NEW, token), _update(client, petition, {"title": "Changed"}, token)):
        assert answer.status_code == 403 and "only read" in answer.json()["error"]
    assert Petition.objects.count() == 1 and Petition.objects.get().title == petition.title


# --- The maker of the token must still be allowed -----------------------------------------------------------------


def _demote(petition, user):
    PetitionMembership.objects.filter(petition=petition, user=user).update(role=MembershipRole.ORGANISER)


def _remove(petition, user):
    PetitionMembership.objects.filter(petition=petition, user=user).delete()


def _make_viewer(petition, user):
    PetitionMembership.objects.filter(petition=petition, user=user).update(role=MembershipRole.VIEWER)


def _deactivate(petition, user):
    type(user).objects.filter(pk=user.pk).update(is_active=False)


def _leave_organisers(petition, user):
    user.groups.remove(Group.objects.get(name=ORGANISERS))


def _forget_maker(petition, user):
    ApiToken.objects.filter(petition=petition).update(created_by=None)  # as when the account is deleted


@pytest.mark.parametrize(
    ("what", "create_status", "update_status"),
    [
        (_demote, 403, 200),  # an organiser edits on the organiser pages, but only owners make tokens
        (_leave_organisers, 403, 200),  # no longer allowed to start petitions at all
        (_make_viewer, 403, 403),
        (_remove, 403, 403),
        (_deactivate, 403, 403),
        (_forget_maker, 403, 403),
    ],
)
def test_a_maker_who_lost_the_role_writes_nothing(client, petition, owner, what, create_status, update_status):
    token = _token(petition, owner)
    what(petition, owner)
    created = _create(client, NEW, token)
    assert created.status_code == create_status, created.content
    if create_status == 403:
        assert created.json()["error"] and Petition.objects.count() == 1
    updated = _update(client, petition, {"title": "Changed"}, token)
    assert updated.status_code == update_status, updated.content
    petition.refresh_from_db()
    assert (petition.title == "Changed") == (update_status == 200)


def test_a_superuser_s_token_writes_as_on_the_organiser_pages(client, petition, django_user_model):
    admin = django_user_model.objects.create_superuser(username="root", email="root@example.org", password="x")
    token = _token(petition, admin)  # a superuser is an owner of every petition, as on the organiser pages
    assert _create(client, NEW, token).status_code == 201
    assert _update(client, petition, {"title": "Changed"}, token).status_code == 200


# --- Cost -------------------------------------------------------------------------------------------------------


def test_writes_cost_the_same_however_many_rows_there_are(client, petition, owner, django_assert_max_num_queries):
    ConfirmedSignatureFactory(petition=petition)
    token = _token(petition, owner)
    client.get("/api/v1/", HTTP_OSDI_API_TOKEN=token)  # the token looked up, as in a tool's run of calls
    with django_assert_max_num_queries(16) as few:
        assert _create(client, NEW, token).status_code == 201
    create = len(few.captured_queries)  # read now: the log is cleared by the requests that follow
    with django_assert_max_num_queries(14) as few:
        assert _update(client, petition, {"petition_text": "Ask 0"}, token).status_code == 200
    update = len(few.captured_queries)
    ConfirmedSignatureFactory.create_batch(30, petition=petition)
    for number in range(1, 6):
        _create(client, NEW, token)
        _update(client, petition, {"petition_text": f"Ask {number}"}, token)
    with django_assert_max_num_queries(create):
        assert _create(client, NEW, token).status_code == 201  # the seventh of its title: light-the-bridge-7
    with django_assert_max_num_queries(update):
        assert _update(client, petition, {"petition_text": "Ask 6"}, token).status_code == 200
    assert Petition.objects.filter(slug="light-the-bridge-7").exists()
    assert PetitionRevision.objects.filter(petition=petition).count() == 7
