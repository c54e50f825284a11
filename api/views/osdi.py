"""The API at /api/v1/: OSDI 1.1 in the flavour of Action Network's API v2, so that a client written for Action
Network works with Vigil once its base URL is changed.

Every resource but the entry point needs a token in the `OSDI-API-Token` header. A token belongs to one petition:
it reads that petition and its confirmed signatures (signers' e-mail addresses only with the e-mail scope) and,
with the write scope, records signatures through the same service as the sign form, edits the petition's text and
starts new petitions in its maker's name, through the organiser pages' own services.
"""

import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import BaseRenderer
from ninja.security import APIKeyHeader

from api import hal, schemas
from api.models import ApiToken
from api.operations import (
    MAX_PAGE_SIZE,
    OPTIONS,
    REFUSALS,
    PageQuery,
    page_filter,
    paging,
    public_id,
    rows_of_page,
)
from api.representations import petition_json, signature_json, signatures_for, total_signatures
from api.services.petitions import PetitionInvalid, WriteRefused, api_petition_create, api_petition_update
from api.services.tokens import api_token_for
from api.views.public import router as public_router
from core.compat import ratelimit_period
from petitions.forms import SignForm
from petitions.models import Petition
from petitions.services.signing import Outcome, signature_submit
from signatures.models import Signature, SignatureState
from signatures.ratelimits import rate_limited

ANCHOR_SECONDS = 3600
SIGNATURE_FILTERS = {"created_date": "created_at", "modified_date": "modified"}
PETITION_FILTERS = {"created_date": "created_at", "modified_date": "updated_at"}


class HalRenderer(BaseRenderer):
    media_type = "application/hal+json"

    def render(self, request: HttpRequest, data, *, response_status: int) -> str:
        return json.dumps(data, cls=DjangoJSONEncoder)


class Throttled(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


class TokenAuth(APIKeyHeader):
    """A live token in the OSDI-API-Token header, each call counted against VIGIL_API_RATE_PER_TOKEN; or, with
    `counted=False`, for an operation that counts its calls against a limit of its own (recording signatures)."""

    param_name = "OSDI-API-Token"

    def __init__(self, *, counted: bool = True):
        super().__init__()
        self.counted = counted

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiToken | None:
        token = api_token_for(key or "")
        if token is None:
            return None
        request.api_token = token  # for the call log (api.middleware)
        rate = settings.VIGIL_API_RATE_PER_TOKEN
        if self.counted and rate_limited(request, group="api:token", rate=rate, value=str(token.pk)):
            raise Throttled(ratelimit_period(rate))
        return token


# Recording a signature counts each call, valid or not, against the token's signing limit (petitions.services.signing)
RECORDING_AUTH = TokenAuth(counted=False)


api = NinjaAPI(
    title="Vigil API",
    version="1",
    description=(
        "Petitions and signatures over HTTP, in the shape of OSDI 1.1 as Action Network's API v2 writes it. "
        "Send a petition's token in the OSDI-API-Token header."
    ),
    urls_namespace="osdi",
    renderer=HalRenderer(),
    auth=TokenAuth(),
    docs_url=None,
    openapi_url="/schema",
)


def _error(request: HttpRequest, status: int, message: str, **extra):
    return api.create_response(request, {"error": message, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "API Key invalid or not present: send a live token in the OSDI-API-Token header.")


@api.exception_handler(Throttled)
def _throttled(request, exc):
    response = _error(request, 429, "Too many requests: wait and try again.")
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query"))
        errors.setdefault(location or "body", []).append(error.get("msg", "invalid"))
    return _error(request, 400, "The request could not be read: see errors.", errors=errors)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return _error(request, exc.status_code, str(exc.message))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "Not found")


def _petition_for(request: HttpRequest, petition_id: str) -> Petition:
    """The token's petition, if that is the one asked for; otherwise 404, as for a petition that does not exist."""
    petition = request.auth.petition
    if petition.public_id != public_id(petition_id):
        raise Http404
    return petition


# --- Operations -------------------------------------------------------------------------------------------------------

RECORDED = "Recorded. The signer has been sent an e-mail to confirm; the signature counts once confirmed."


@api.get("/", auth=None, response={200: schemas.EntryPoint, 413: schemas.Error}, **OPTIONS)
def entry_point(request: HttpRequest):
    """The API entry point: what this server offers, and where."""
    return {
        "motd": "Welcome to the Vigil API entry point.",
        "vendor_name": "Vigil",
        "product_name": "Vigil",
        "osdi_version": "1.1.1",
        "max_page_size": MAX_PAGE_SIZE,
        "max_pagesize": MAX_PAGE_SIZE,
        "namespace": hal.NAMESPACE,
        "_links": {
            "self": {"href": hal.api_url(request), "title": "This API entry point"},
            "osdi:petitions": {
                "href": hal.api_url(request, "petitions"),
                "title": "The petitions of this token (POST here to start a new one)",
            },
            "vigil:articles": {"href": hal.api_url(request, "articles"), "title": "Published articles"},
            "vigil:letters": {"href": hal.api_url(request, "letters"), "title": "Sign-on letters"},
            "docs": {"href": hal.absolute(request, "/api/v1/docs/"), "title": "Documentation"},
            "curies": hal.curies(request),
        },
    }


@api.get("/petitions", response={200: schemas.PetitionPage, **REFUSALS}, **OPTIONS)
def petitions(request: HttpRequest, query: Query[PageQuery]):
    """The petitions this token may read: its own."""
    page, per_page = paging(query)
    condition = page_filter(query, PETITION_FILTERS)
    found = Petition.objects.select_related("tally").filter(pk=request.auth.petition_id)
    if condition is not None:
        found = found.filter(condition)
    rows = rows_of_page(found.order_by("id"), page, per_page)
    return hal.collection(
        request, kind="petitions", path="petitions", items=[petition_json(request, p) for p in rows], page=page,
        per_page=per_page, total_records=found.count(), query={"filter": query.filter},
    )  # fmt: skip


@api.get("/petitions/{petition_id}", response={200: schemas.Petition, **REFUSALS}, **OPTIONS)
def petition(request: HttpRequest, petition_id: str):
    """One petition."""
    return petition_json(request, _petition_for(request, petition_id))


# The names a change the service refused gives its errors: OSDI's, written as the schema's own errors write them.
_PETITION_FIELD_NAMES = {"title": "title", "body": "description", "ask": "petition_text",
                         "target_name": "target.0.name", "target_organisation": "target.0.organization"}  # fmt: skip


def _petition_changes(payload: schemas.PetitionChange) -> dict[str, str]:
    """The model's fields from the names `petition_json` gives them. A field left out or null, or an empty list of
    targets, changes nothing; the read-only fields are not looked at."""
    changes = {"title": payload.title, "body": payload.description, "ask": payload.petition_text}
    if payload.target:
        [target] = payload.target
        changes |= {"target_name": target.name, "target_organisation": target.organization or ""}
    return {field: value for field, value in changes.items() if value is not None}


def _refused_change(exc: PetitionInvalid) -> Status:
    errors = {_PETITION_FIELD_NAMES[field]: messages for field, messages in exc.errors.items()}
    return Status(400, {"error": "The petition was not saved: see errors.", "errors": errors})


@api.post("/petitions", response={201: schemas.Petition, 403: schemas.Error, **REFUSALS}, **OPTIONS)
def create_petition(request: HttpRequest, payload: schemas.PetitionIn):
    """Start a petition: a draft, owned by the person who made the token, who must still be an owner of the token's
    petition and allowed to start petitions on the organiser pages (403 otherwise). The address is made from the
    title. The answer is the new petition; the token goes on reading its own petition only, and the new one's
    owners make tokens for it on the organiser pages."""
    try:
        created = api_petition_create(token=request.auth, changes=_petition_changes(payload))
    except WriteRefused as exc:
        raise HttpError(403, str(exc)) from exc
    except PetitionInvalid as exc:
        return _refused_change(exc)
    return Status(201, petition_json(request, created))


@api.put("/petitions/{petition_id}", response={200: schemas.Petition, 403: schemas.Error, **REFUSALS}, **OPTIONS)
def update_petition(request: HttpRequest, petition_id: str, payload: schemas.PetitionChange):
    """Change the petition's title, description, petition text or target, whatever its state; what is left out stays
    as it is, and what is filled in may be changed but not emptied. Needs the write scope, and the person who made
    the token must still be an owner or organiser of the petition (403 otherwise), as for the organiser pages' edit
    form. Once anyone has signed, the earlier text is kept as a public revision."""
    _petition_for(request, petition_id)
    try:
        saved = api_petition_update(token=request.auth, changes=_petition_changes(payload))
    except WriteRefused as exc:
        raise HttpError(403, str(exc)) from exc
    except PetitionInvalid as exc:
        return _refused_change(exc)
    except Petition.DoesNotExist:  # removed within the seconds the token is trusted
        raise Http404 from None
    return petition_json(request, saved)


def _anchor_key(petition: Petition, per_page: int, filter_text: str | None, page: int) -> str:
    """Where the first row of a page is remembered: per petition, page size and filter (the same on every host)."""
    digest = hashlib.sha256((filter_text or "").encode()).hexdigest()[:16]
    return f"api:signatures:{petition.pk}:{per_page}:{digest}:{page}"


@api.get("/petitions/{petition_id}/signatures", response={200: schemas.SignaturePage, **REFUSALS}, **OPTIONS)
def signatures(request: HttpRequest, petition_id: str, query: Query[PageQuery]):
    """The petition's confirmed signatures, oldest first. Pages are cut by position in the order (keyset): the
    first row of each page is remembered from the page before it, so that walking page by page costs the same on
    page 4,000 as on page 1, and a row removed meanwhile does not shift the rows after it into a page already read.
    `total_records` is the petition's count of confirmed signatures (without a filter, exact within seconds)."""
    found = _petition_for(request, petition_id)  # with its tally, as the token was looked up
    page, per_page = paging(query)
    condition = page_filter(query, SIGNATURE_FILTERS)
    total = total_signatures(found)
    rows: list[Signature] = []
    if (page - 1) * per_page <= total + 10_000:  # past the end (with a margin for the count's lag): empty at once
        queryset = signatures_for(found).filter(state=SignatureState.CONFIRMED)
        if condition is not None:
            queryset = queryset.filter(condition)
        anchor = 0 if page == 1 else cache.get(_anchor_key(found, per_page, query.filter, page))
        if anchor is not None:
            rows = list(queryset.filter(id__gt=anchor)[:per_page])
        elif condition is None:  # a page reached by its number alone: its start counted once in the index alone
            confirmed = Signature.objects.filter(petition_id=found.pk, state=SignatureState.CONFIRMED).order_by("id")
            before = list(confirmed.values_list("id", flat=True)[(page - 1) * per_page - 1 :][:1])
            if before:
                cache.set(_anchor_key(found, per_page, query.filter, page), before[0], ANCHOR_SECONDS)
                rows = list(queryset.filter(id__gt=before[0])[:per_page])
        else:  # filtered: counted from the start of the filtered rows, then remembered
            rows = rows_of_page(queryset, page, per_page)
            if rows:
                cache.set(_anchor_key(found, per_page, query.filter, page), rows[0].pk - 1, ANCHOR_SECONDS)
        if len(rows) == per_page:
            cache.set(_anchor_key(found, per_page, query.filter, page + 1), rows[-1].pk, ANCHOR_SECONDS)
    emails = request.auth.can_read_emails
    items = [signature_json(request, row, petition=found, emails=emails) for row in rows]
    return hal.collection(
        request, kind="signatures", path=f"petitions/{found.public_id}/signatures", items=items, page=page,
        per_page=per_page, total_records=total, query={"filter": query.filter},
    )  # fmt: skip


@api.get("/petitions/{petition_id}/signatures/{signature_id}", response={200: schemas.Signature, **REFUSALS}, **OPTIONS)
def signature(request: HttpRequest, petition_id: str, signature_id: str):
    """One signature. A withdrawn, set-aside or anonymised one carries no personal fields."""
    found = _petition_for(request, petition_id)
    row = signatures_for(found).filter(public_id=public_id(signature_id)).exclude(state=SignatureState.PENDING).first()
    if row is None:
        raise Http404
    return signature_json(request, row, petition=found, emails=request.auth.can_read_emails)


_FIELD_NAMES = {"first_name": "person.given_name", "last_name": "person.family_name",
                "email": "person.email_addresses", "country": "person.postal_addresses.country",
                "region": "person.postal_addresses.region", "town": "person.postal_addresses.locality",
                "postal_code": "person.postal_addresses.postal_code", "__all__": "person"}  # fmt: skip


def _form_data(payload: schemas.SignatureIn) -> dict:
    person = payload.person
    postal = person.postal_addresses[0] if person.postal_addresses else schemas.PostalIn()
    referrer = payload.referrer_data or payload.an_referrer_data or schemas.ReferrerIn()
    return {
        "first_name": person.given_name,
        "last_name": person.family_name,
        "email": person.email_addresses[0].address,
        "country": postal.country.strip().upper(),
        "region": postal.region,
        "town": postal.locality,
        "postal_code": postal.postal_code,
        "show_publicly": "on" if payload.show_publicly else "",
        "contact_ok": "on" if payload.contact_ok else "",
        "website": "",
        "referrer": referrer.website or referrer.url,
        "utm_source": referrer.source,
    }


@api.post(
    "/petitions/{petition_id}/signatures",
    auth=RECORDING_AUTH,
    response={200: schemas.Recorded, 403: schemas.Error, 409: schemas.Error, **REFUSALS},
    **OPTIONS,
)
def record_signature(request: HttpRequest, petition_id: str, payload: schemas.SignatureIn):
    """The record signature helper: one person's signature, through the same checks as the sign form. The signer
    is sent the confirmation e-mail; the signature counts once they confirm. A person who has signed already gets
    the same answer (and, as on the form, a new confirmation e-mail if still unconfirmed)."""
    token: ApiToken = request.auth
    found = _petition_for(request, petition_id)
    if not token.can_write:
        raise HttpError(403, "This token may only read. Ask the petition's owners for one that may write.")
    form = SignForm(_form_data(payload), petition=found)
    submitted = signature_submit(
        request, petition=found, form=form, ip="", sender_rate=settings.VIGIL_API_SIGN_RATE_PER_TOKEN,
        sender=("api:sign:token", str(token.pk)),
    )  # fmt: skip
    match submitted.outcome:
        case Outcome.ACCEPTED:
            # The documented shape (schemas.Recorded), rendered directly: the one answer of a surge, not re-validated.
            base = f"petitions/{found.public_id}"
            links = {"osdi:petition": {"href": hal.api_url(request, base)},
                     "osdi:signatures": {"href": hal.api_url(request, f"{base}/signatures")}}  # fmt: skip
            return api.create_response(
                request, {"vigil:state": "pending", "vigil:message": RECORDED, "_links": links}, status=200
            )
        case Outcome.SENDER_OVER | Outcome.EMAIL_OVER:
            over = settings.VIGIL_API_SIGN_RATE_PER_TOKEN if submitted.outcome == Outcome.SENDER_OVER else None
            raise Throttled(ratelimit_period(over or settings.VIGIL_SIGN_RATE_PER_EMAIL))
        case Outcome.NOT_OPEN:
            return Status(409, {"error": submitted.notice})
        case _:
            errors = {_FIELD_NAMES.get(field, field): [str(message) for message in messages]
                      for field, messages in form.errors.items()}  # fmt: skip
            return Status(400, {"error": "The signature was not recorded: see errors.", "errors": errors})


@api.post(
    "/petitions/{petition_id}/record_signature_helper",
    auth=RECORDING_AUTH,
    response={200: schemas.Recorded, 403: schemas.Error, 409: schemas.Error, **REFUSALS},
    **OPTIONS,
)
def record_signature_helper(request: HttpRequest, petition_id: str, payload: schemas.SignatureIn):
    """The same as POST on the petition's signatures, at the address OSDI's examples use."""
    return record_signature(request, petition_id, payload)


api.add_router("", public_router)
