"""How the API writes a petition and a signature (OSDI, as Action Network's API v2 does), for its answers and for the
webhooks' events, which the worker writes without a request (`SiteBase` stands in for one)."""

from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest

from api import hal
from core.links import absolute_url
from petitions.models import Petition
from signatures.models import Signature, SignatureState


class SiteBase:
    """Builds absolute links from the site's configured address, where there is no request to build them from."""

    def build_absolute_uri(self, location: str) -> str:
        return absolute_url(location)


def total_signatures(petition: Petition) -> int:
    tally = getattr(petition, "tally", None)
    return tally.confirmed if tally else 0


def petition_json(request: HttpRequest | SiteBase, petition: Petition) -> dict:
    path = f"petitions/{petition.public_id}"
    signatures = {"href": hal.api_url(request, f"{path}/signatures")}
    return {
        "identifiers": [f"{hal.NAMESPACE}:{petition.public_id}"],
        "origin_system": "Vigil",
        "created_date": hal.iso(petition.created_at),
        "modified_date": hal.iso(petition.updated_at),
        "title": petition.title,
        "description": petition.body,
        "petition_text": petition.ask,
        "browser_url": hal.absolute(request, petition.get_absolute_url()),
        "featured_image_url": hal.absolute(request, petition.image.url) if petition.image else None,
        "total_signatures": total_signatures(petition),
        "target": [{"name": petition.target_name, "organization": petition.target_organisation or None}],
        "vigil:status": petition.status,
        "_links": {
            "self": {"href": hal.api_url(request, path)},
            "osdi:signatures": signatures,
            "osdi:record_signature_helper": signatures,
        },
    }


def signature_json(request: HttpRequest | SiteBase, signature: Signature, *, petition: Petition, emails: bool) -> dict:
    path = f"petitions/{petition.public_id}/signatures/{signature.public_id}"
    personal = signature.state == SignatureState.CONFIRMED and signature.anonymised_at is None
    person = None
    if personal:
        person = {
            "given_name": signature.first_name,
            "family_name": signature.last_name,
            "postal_addresses": [{"locality": signature.town or None, "region": signature.region or None,
                                  "postal_code": signature.postal_code or None, "country": signature.country}],
        }  # fmt: skip
        if emails:
            person["email_addresses"] = [{"address": signature.email, "primary": True}]
    return {
        "identifiers": [f"{hal.NAMESPACE}:{signature.public_id}"],
        "origin_system": "Vigil",
        "created_date": hal.iso(signature.created_at),
        "modified_date": hal.iso(signature.modified),
        "action_date": hal.iso(signature.created_at),
        "vigil:confirmed_date": hal.iso(signature.confirmed_at),
        "vigil:state": signature.state,
        "referrer_data": {"source": signature.utm_source or None, "website": signature.referrer_host or None}
        if personal
        else None,
        "person": person,
        "_links": {
            "self": {"href": hal.api_url(request, path)},
            "osdi:petition": {"href": hal.api_url(request, f"petitions/{petition.public_id}")},
        },
    }


def signatures_for(petition: Petition):
    modified = Greatest(
        "created_at",
        Coalesce("confirmed_at", "created_at"),
        Coalesce("withdrawn_at", "created_at"),
        Coalesce("anonymised_at", "created_at"),
        Coalesce("invalidated_at", "created_at"),
    )
    return (
        Signature.objects.filter(petition_id=petition.pk)
        .annotate(modified=modified)
        .only(
            "public_id",
            "state",
            "first_name",
            "last_name",
            "email",
            "country",
            "region",
            "town",
            "postal_code",
            "utm_source",
            "referrer_host",
            "created_at",
            "confirmed_at",
            "withdrawn_at",
            "anonymised_at",
            "invalidated_at",
        )  # fmt: skip
        .order_by("id")
    )
