"""The signer's pages: signing, thanks, resending, confirming and withdrawing by e-mailed link, and "Your data"."""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import pagecache
from core.net import client_ip
from petitions import selectors
from petitions.forms import (
    MyDataForm,
    ResendForm,
    SignForm,
)
from petitions.models import Petition
from petitions.services.signing import Outcome, signature_submit
from petitions.views.public import detail_response
from signatures.ratelimits import rate_limited, sign_email_limit_value
from signatures.services import data_requests, signing

logger = logging.getLogger(__name__)


@require_POST
def petition_sign(request: HttpRequest, slug: str) -> HttpResponse:
    """Sign: answer 303 to the thanks page (no template rendered), or the page again with the form filled in.

    The hot path, measured: a cached petition snapshot (it also carries signing through a database outage), the
    form, and one Redis call that counts both rate limits and, if neither is exceeded, hands the checked signature
    to the intake, which a worker writes in batches (petitions.services.signing, shared with the API). Every post
    counts against the address, and the answers come in this order: over the address limit (429), petition not open
    (409), invalid form (400), over the e-mail limit (429).
    """
    petition, thanks_url = selectors.petition_for_signing(slug=slug)
    if petition is None:
        raise Http404("No petition at this address.")
    form = SignForm(request.POST, petition=petition)
    thanks = HttpResponseRedirect(thanks_url, status=303)
    if form.is_bot:
        logger.info("Honeypot filled on petition %s; nothing recorded", petition.pk)
        return thanks  # the same answer as everyone gets: nothing for a bot to learn
    submitted = signature_submit(
        request, petition=petition, form=form, ip=client_ip(request), sender_rate=settings.VIGIL_SIGN_RATE_PER_IP
    )
    over_limit = gettext_lazy("You have signed many times in a short while from this address or with this e-mail. "
                              "Wait a little and send the form again; what you typed is still here.")  # fmt: skip
    match submitted.outcome:
        case Outcome.ACCEPTED:
            return thanks
        case Outcome.SENDER_OVER | Outcome.EMAIL_OVER:
            return _sign_problem(request, slug, form, status=429, notice=over_limit)
        case Outcome.NOT_OPEN:
            return _sign_problem(request, slug, form, status=409, notice=submitted.notice)
        case _:
            return _sign_problem(request, slug, form, status=400)


def _sign_problem(request: HttpRequest, slug: str, form: SignForm, *, status: int, notice: str = "") -> HttpResponse:
    petition = Petition.objects.public().filter(slug=slug).first()  # the whole petition, fresh, for the page
    if petition is None:
        raise Http404("No petition at this address.")
    return detail_response(request, petition, form, status=status, notice=notice)


@require_GET
@pagecache.shared_page()
def petition_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    return render(request, "petitions/thanks.html", {"petition": petition})


@require_http_methods(["GET", "POST"])
def signature_resend(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    form = ResendForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, group="signatures:resend:ip", rate=settings.VIGIL_SIGN_RESEND_RATE):
            notice = _("Too many requests for new links from here. Wait a little and try again.")
            return render(request, "petitions/resend.html", {"petition": petition, "form": form, "notice": notice},
                          status=429)  # fmt: skip
        if form.is_valid():
            if not rate_limited(  # per address on this petition: posts here cannot stop links for other petitions
                request, group="signatures:resend:email", rate=settings.VIGIL_SIGN_RESEND_RATE,
                value=sign_email_limit_value(petition_id=petition.pk, canonical_email=form.canonical_email),
            ):  # fmt: skip
                signing.signature_confirmation_resend(petition=petition, email=form.cleaned_data["email"])
            response = redirect(reverse("petitions:thanks", args=[petition.slug]))
            response.status_code = 303
            return response
    return render(request, "petitions/resend.html", {"petition": petition, "form": form},
                  status=400 if form.errors else 200)  # fmt: skip


def token_problem(request: HttpRequest, exc: Exception, *, status: int) -> HttpResponse:
    return render(request, "petitions/token_problem.html", {"message": str(exc)}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def signature_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links; only a person presses the button); POST confirms.

    Every signer of a surge comes through both, so their pages are rendered once per petition and case (the same
    HTML for everyone: pagecache.shared_render); only the CSRF token and the withdrawal link differ per signer.
    """
    try:
        if request.method == "GET":
            signature = signing.signature_for_confirm_token(token=token)
            petition = signature.petition
            context = {"petition": petition, "confirmed": signature.is_confirmed}
            return pagecache.shared_render(
                request, "petitions/confirm.html", context, key=(petition.pk, signature.is_confirmed)
            )
        signature, first_time = signing.signature_confirm(token=token)
    except signing.TokenInvalid as exc:
        return token_problem(request, exc, status=400)
    except (signing.TokenExpired, signing.TokenStale) as exc:
        return token_problem(request, exc, status=410)
    except signing.SignatureError as exc:
        return token_problem(request, exc, status=409)
    petition = signature.petition
    url = request.build_absolute_uri(petition.get_absolute_url())
    context = {
        "petition": petition,
        "first_time": first_time,
        "share_url": url,
        "share_links": selectors.share_links(url=url, text=petition.title),
    }
    withdraw_url = reverse("petitions:signature_withdraw", args=[signing.signature_withdraw_token(signature=signature)])
    return pagecache.shared_render(
        request,
        "petitions/confirmed.html",
        context,
        key=(petition.pk, first_time),
        values={"withdraw_url": withdraw_url},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def signature_withdraw(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "GET":
            signature = signing.signature_for_withdraw_token(token=token)
            return render(request, "petitions/withdraw.html", {"signature": signature, "petition": signature.petition})
        signature, first_time = signing.signature_withdraw(token=token)
    except signing.TokenInvalid as exc:
        return token_problem(request, exc, status=400)
    except signing.SignatureError as exc:
        return token_problem(request, exc, status=410)
    return render(request, "petitions/withdrawn.html", {"petition": signature.petition, "first_time": first_time})


@never_cache
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    """Ask for a copy, or the erasure, of what is held under an address. The answer is the same whether or not the
    address is known; a message goes to the address only when something is held (signatures.services.data_requests).
    """
    form = MyDataForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, group="signatures:data:ip", rate=settings.VIGIL_DATA_REQUEST_RATE):
            notice = _("Too many requests from here. Wait a little and try again.")
            return render(request, "petitions/my_data.html", {"form": form, "notice": notice}, status=429)
        if form.is_valid():
            if not rate_limited(request, group="signatures:data:email", rate=settings.VIGIL_DATA_REQUEST_RATE,
                                value=form.canonical_email):  # fmt: skip
                data_requests.signer_data_request(email=form.cleaned_data["email"], kind=form.cleaned_data["kind"])
            return render(request, "petitions/my_data.html", {"sent": True})
    return render(request, "petitions/my_data.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def my_data_erase(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links; only a person presses it); POST erases."""
    try:
        data_requests.erase_link_read(token=token)
    except data_requests.EraseLinkInvalid as exc:
        return token_problem(request, exc, status=410)
    if request.method == "POST":
        erased = data_requests.signer_data_erase(token=token)
        return render(request, "petitions/my_data_erase.html", {"done": True, "erased": erased})
    return render(request, "petitions/my_data_erase.html", {"done": False})
