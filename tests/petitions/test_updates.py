"""Updates: organisers write a draft, publish it, correct it or take it down; the public sees it on the petition's
page, its own page, the list, the RSS and Atom feeds and the sitemap; the webhooks get petition.update_published."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from core.models import Event, EventKind
from petitions.models import MembershipRole, PetitionUpdate
from petitions.services.errors import PetitionStateError
from petitions.services.updates import (
    UpdateInvalid,
    petition_update_create,
    petition_update_publish,
    petition_update_unpublish,
)
from tests.deliverables.factories import organiser_of
from tests.petitions.factories import DraftPetitionFactory, OpenPetitionFactory

pytestmark = pytest.mark.django_db


def _published(petition, by, title="The company answered", body="<p>They will stop.</p>"):
    update = petition_update_create(petition=petition, by=by, title=title, body=body)
    petition_update_publish(update=update)
    return update


def test_an_organiser_writes_a_draft_that_only_publishing_shows(client, petition):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    client.force_login(organiser)
    data = {"title": "We met the CEO", "body": "<p>It went well.</p><script>alert(1)</script>"}
    response = client.post(reverse("petitions:organise_updates", args=[petition.slug]), data)
    assert response.status_code == 302
    update = PetitionUpdate.objects.get()
    assert (update.number, update.published_at, update.created_by) == (1, None, organiser)
    assert "<script>" not in update.body

    public = Client()
    assert b"We met the CEO" not in public.get(petition.get_absolute_url()).content
    assert public.get(reverse("petitions:update", args=[petition.slug, 1])).status_code == 404

    response = client.post(reverse("petitions:organise_update_action", args=[petition.slug, 1]), {"action": "publish"})
    assert response.status_code == 302
    page = public.get(petition.get_absolute_url()).content.decode()  # the shared copy was marked out of date
    assert "We met the CEO" in page and "It went well." in page
    assert reverse("petitions:updates_rss", args=[petition.slug]) in page  # <link rel="alternate">
    own = public.get(reverse("petitions:update", args=[petition.slug, 1]))
    assert own.status_code == 200 and b"It went well." in own.content


def test_updates_are_listed_newest_first_in_the_list_and_the_feeds(client, petition):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    _published(petition, organiser, title="First news")
    _published(petition, organiser, title="Second news")
    listing = client.get(reverse("petitions:updates", args=[petition.slug])).content.decode()
    assert listing.index("Second news") < listing.index("First news")
    rss = client.get(reverse("petitions:updates_rss", args=[petition.slug]))
    assert rss["Content-Type"].startswith("application/rss+xml")
    text = rss.content.decode()
    assert text.index("Second news") < text.index("First news")
    atom = client.get(reverse("petitions:updates_atom", args=[petition.slug]))
    assert atom["Content-Type"].startswith("application/atom+xml") and b"First news" in atom.content


def test_the_sitemap_lists_published_updates_of_public_petitions_only(client, petition):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    published = _published(petition, organiser)
    petition_update_create(petition=petition, by=organiser, title="Draft", body="<p>Not yet.</p>")
    sitemap = client.get("/sitemap-petition-updates.xml").content.decode()
    assert published.get_absolute_url() in sitemap
    assert f"/petitions/{petition.slug}/updates/2/" not in sitemap


def test_taking_an_update_down_removes_it_everywhere(client, petition):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    update = _published(petition, organiser, title="Premature news")
    assert b"Premature news" in client.get(petition.get_absolute_url()).content
    petition_update_unpublish(update=update)
    assert b"Premature news" not in client.get(petition.get_absolute_url()).content
    assert b"Premature news" not in client.get(reverse("petitions:updates_rss", args=[petition.slug])).content
    assert client.get(update.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [
        ("", "<p>Text</p>", "title"),
        ("Title", "", "body"),
        ("Title", "<script>alert(1)</script>", "body"),  # nothing left once cleaned
        ("x" * 201, "<p>Text</p>", "title"),
    ],
)
def test_an_empty_or_oversized_update_is_refused_and_nothing_is_saved(petition, title, body, field):
    with pytest.raises(UpdateInvalid) as refused:
        petition_update_create(petition=petition, by=None, title=title, body=body)
    assert field in refused.value.errors
    assert not PetitionUpdate.objects.exists()


def test_a_text_over_the_limit_is_refused_with_its_limit_on_the_page(client, petition, settings):
    settings.VIGIL_PETITION_UPDATE_MAX_CHARS = 100
    client.force_login(organiser_of(petition, role=MembershipRole.ORGANISER))
    response = client.post(reverse("petitions:organise_updates", args=[petition.slug]),
                           {"title": "Long", "body": "<p>" + "word " * 40 + "</p>"})  # fmt: skip
    assert response.status_code == 400
    assert "Keep the text to 100 characters." in response.content.decode()
    assert not PetitionUpdate.objects.exists()


def test_publishing_twice_publishes_once_and_writes_one_event(petition):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    petition.sends_events = True  # an endpoint follows the petition
    petition.save(update_fields=["sends_events"])
    update = petition_update_create(petition=petition, by=organiser, title="News", body="<p>Text.</p>")
    assert petition_update_publish(update=update) is True
    assert petition_update_publish(update=update) is False
    assert list(Event.objects.values_list("kind", "subject_id")) == [(EventKind.PETITION_UPDATE_PUBLISHED, update.pk)]


def test_a_draft_petitions_updates_cannot_be_published():
    petition = DraftPetitionFactory()
    update = petition_update_create(petition=petition, by=None, title="Early", body="<p>Text.</p>")
    with pytest.raises(PetitionStateError):
        petition_update_publish(update=update)
    update.refresh_from_db()
    assert update.published_at is None


def test_a_viewer_and_another_petitions_organiser_cannot_write(client, petition):
    viewer = organiser_of(petition, role=MembershipRole.VIEWER)
    client.force_login(viewer)
    assert client.get(reverse("petitions:organise_updates", args=[petition.slug])).status_code in (403, 404)
    update = petition_update_create(petition=petition, by=None, title="Draft", body="<p>Text.</p>")
    stranger = organiser_of(OpenPetitionFactory(), role=MembershipRole.ORGANISER)
    client.force_login(stranger)
    action = reverse("petitions:organise_update_action", args=[petition.slug, update.number])
    assert client.post(action, {"action": "publish"}).status_code in (403, 404)
    update.refresh_from_db()
    assert update.published_at is None


def test_updates_are_numbered_per_petition(petition):
    other = OpenPetitionFactory()
    numbers = [petition_update_create(petition=p, by=None, title="T", body="<p>B</p>").number
               for p in (petition, petition, other, petition)]  # fmt: skip
    assert numbers == [1, 2, 1, 3]


def test_a_published_draft_cannot_be_removed_before_it_is_taken_down(client, petition):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    update = _published(petition, organiser)
    client.force_login(organiser)
    client.post(reverse("petitions:organise_update_action", args=[petition.slug, 1]), {"action": "delete"})
    assert PetitionUpdate.objects.filter(pk=update.pk).exists()


def test_the_list_page_keeps_its_query_count(client, petition, django_assert_max_num_queries):
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    _published(petition, organiser, title="One")
    cache.clear()
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("petitions:updates", args=[petition.slug]))
    for n in range(10):
        _published(petition, organiser, title=f"More {n}")
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("petitions:updates", args=[petition.slug]))
    assert response.content.count(b'class="update"') == 11


def test_an_update_may_carry_a_picture_cleaned_rendered_and_described(client, petition, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from petitions.services.updates import petition_update_image_render
    from tests.factories import image_upload

    settings.MEDIA_ROOT = tmp_path
    organiser = organiser_of(petition, role=MembershipRole.ORGANISER)
    client.force_login(organiser)
    url = reverse("petitions:organise_updates", args=[petition.slug])
    data = {"title": "At the shareholders' meeting", "body": "<p>We asked our question.</p>"}
    response = client.post(url, {**data, "image": image_upload()})
    assert response.status_code == 400 and "Describe the picture" in response.content.decode()
    fake = SimpleUploadedFile("photo.jpg", b"<script>not a picture</script>", content_type="image/jpeg")
    response = client.post(url, {**data, "image": fake, "image_alt": "A hall"})
    assert response.status_code == 400 and not PetitionUpdate.objects.exists()
    response = client.post(url, {**data, "image": image_upload(), "image_alt": "A full hall"})
    assert response.status_code == 302
    update = PetitionUpdate.objects.get()
    assert update.image and update.image_alt == "A full hall" and update.renditions == []
    petition_update_image_render(update_id=update.pk)  # the worker's task
    update.refresh_from_db()
    assert {r["format"] for r in update.renditions} == {"webp", "jpeg"}
    petition_update_publish(update=update)
    page = Client().get(update.get_absolute_url()).content.decode()
    assert 'alt="A full hall"' in page and "image/webp" in page

    edit = reverse("petitions:organise_update", args=[petition.slug, update.number])
    assert client.post(edit, {**data, "image_alt": "", "remove_image": ""}).status_code == 400  # still a picture
    assert client.post(edit, {**data, "image_alt": "", "remove_image": "on"}).status_code == 302
    update.refresh_from_db()
    assert not update.image and update.image_alt == "" and update.renditions == []
