"""The web interface of petitions: public pages, the signing flow, and the organisers' pages under /organise/."""

import logging
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.middleware import user_has_totp
from core import pagecache
from core.net import client_ip
from petitions import selectors, services
from petitions.forms import (
    InvalidateForm,
    MemberForm,
    MyDataForm,
    PetitionForm,
    ResendForm,
    SignForm,
    TransitionForm,
)
from petitions.models import MembershipRole, Petition, PetitionMembership, PetitionStatus
from signatures.ratelimits import rate_limited, sign_email_limit_value, sign_rate_limited
from signatures.services import data_requests, intake, review, signing

logger = logging.getLogger(__name__)


# --- Public pages --------------------------------------------------------------------------------------------------


@require_GET
@pagecache.shared_page(live=True, query={"page": pagecache.small_page_number})
def petition_list(request: HttpRequest) -> HttpResponse:
    page = selectors.petitions_public_page(page_number=request.GET.get("page"))
    return render(request, "petitions/petition_list.html", {"page": page})


ORIGIN_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
pagecache.hole_register("referrer", lambda request: request.headers.get("Referer", "")[:2000])
for _name in ORIGIN_FIELDS:
    pagecache.hole_register(_name, lambda request, name=_name: request.GET.get(name, "")[:100])


def _origin_initial(request: HttpRequest) -> dict:
    """Where the signer came from, kept with the signature: per visitor, so holes in a shared copy of the page."""
    return {name: pagecache.visitor_value(request, name) for name in ("referrer", *ORIGIN_FIELDS)}


def _detail(request: HttpRequest, petition: Petition, form: SignForm, *, status: int = 200, notice: str = ""):
    url = request.build_absolute_uri(petition.get_absolute_url())
    context = {
        "petition": petition,
        "stats": selectors.petition_stats(petition=petition),
        "form": form,
        "accepts_signatures": petition.accepts_signatures(),
        "notice": notice,
        "share_url": url,
        "share_links": selectors.share_links(url=url, text=petition.title),
    }
    return render(request, "petitions/petition_detail.html", context, status=status)


@require_GET
@pagecache.shared_page(live=True)
def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    if petition.accepts_signatures():
        pagecache.expires_at(request, petition.closes_at)  # a copy with the form never outlives the closing time
    return _detail(request, petition, SignForm(petition=petition, initial=_origin_initial(request)))


@require_POST
def petition_sign(request: HttpRequest, slug: str) -> HttpResponse:
    """Sign: answer 303 to the thanks page (no template rendered), or the page again with the form filled in.

    The hot path, measured: a cached petition snapshot (it also carries signing through a database outage), the
    form, and one Redis call that counts both rate limits and, if neither is exceeded, hands the checked signature
    to the intake (signatures.services.intake), which a worker writes in batches. Without the intake (no Redis, Redis
    down, or a Redis that does not persist) the signature is written here, in one SQL statement
    (signing.signature_create). Every post counts against the address, and the answers come in this order: over the
    address limit (429), petition not open (409), invalid form (400), over the e-mail limit (429).
    """
    petition, thanks_url = selectors.petition_for_signing(slug=slug)
    if petition is None:
        raise Http404("No petition at this address.")
    form = SignForm(request.POST, petition=petition)
    thanks = HttpResponseRedirect(thanks_url, status=303)
    if form.is_bot:
        logger.info("Honeypot filled on petition %s; nothing recorded", petition.pk)
        return thanks  # the same answer as everyone gets: nothing for a bot to learn
    valid = form.is_valid()
    accepts = petition.accepts_signatures()
    entry = None
    if valid and accepts and intake.intake_enabled():
        try:
            entry = intake.signature_intake_entry(
                petition=petition,
                details=form.details(),
                origin=form.origin(ip=client_ip(request)),
                canonical=form.canonical_email,
            )
        except (signing.InvalidEmail, signing.SignatureError) as exc:
            form.add_error(None, str(exc))
            valid = False
    limits = sign_rate_limited(
        request,
        petition_id=petition.pk,
        ip_rate=settings.VIGIL_SIGN_RATE_PER_IP,
        email_rate=settings.VIGIL_SIGN_RATE_PER_EMAIL,
        canonical_email=form.canonical_email if valid else None,
        intake=entry,
    )
    over_limit = gettext_lazy("You have signed many times in a short while from this address or with this e-mail. "
                              "Wait a little and send the form again; what you typed is still here.")  # fmt: skip
    if limits.ip_over:
        return _sign_problem(request, slug, form, status=429, notice=over_limit)
    if not accepts:
        return _sign_problem(request, slug, form, status=409, notice=_("This petition is not open for signatures."))
    if not valid:
        return _sign_problem(request, slug, form, status=400)
    if limits.email_over:
        return _sign_problem(request, slug, form, status=429, notice=over_limit)
    if limits.queued:
        intake.signature_intake_drain_soon()
        return thanks
    try:
        signing.signature_create(petition=petition, details=form.details(), origin=form.origin(ip=client_ip(request)))
    except signing.PetitionNotOpen as exc:
        return _sign_problem(request, slug, form, status=409, notice=str(exc))
    except (signing.InvalidEmail, signing.SignatureError) as exc:
        form.add_error(None, str(exc))
        return _sign_problem(request, slug, form, status=400)
    return thanks


def _sign_problem(request: HttpRequest, slug: str, form: SignForm, *, status: int, notice: str = "") -> HttpResponse:
    petition = Petition.objects.public().filter(slug=slug).first()  # the whole petition, fresh, for the page
    if petition is None:
        raise Http404("No petition at this address.")
    return _detail(request, petition, form, status=status, notice=notice)


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


def _token_problem(request: HttpRequest, exc: Exception, *, status: int) -> HttpResponse:
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
        return _token_problem(request, exc, status=400)
    except (signing.TokenExpired, signing.TokenStale) as exc:
        return _token_problem(request, exc, status=410)
    except signing.SignatureError as exc:
        return _token_problem(request, exc, status=409)
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
        return _token_problem(request, exc, status=400)
    except signing.SignatureError as exc:
        return _token_problem(request, exc, status=410)
    return render(request, "petitions/withdrawn.html", {"petition": signature.petition, "first_time": first_time})


@require_GET
def petition_revisions(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    revisions = selectors.petition_revisions(petition=petition)
    return render(request, "petitions/revisions.html", {"petition": petition, "revisions": revisions})


# --- Organisers ----------------------------------------------------------------------------------------------------


def organiser_view(view):
    """Signed in, with a second factor, whatever the account's role (per-petition rights are checked by the view)."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.has_perm("petitions.add_petition") or PetitionMembership.objects.filter(user=user).exists()):
            raise PermissionDenied(_("These pages are for the organisers of a petition."))
        if not user_has_totp(user):
            messages.info(request, _("Organisers' pages need a second sign-in step. Set up an authenticator app."))
            return redirect(reverse("mfa_activate_totp"))
        return view(request, *args, **kwargs)

    return wrapped


def _may_create(user) -> bool:
    return user.has_perm("petitions.add_petition")


@organiser_view
@require_GET
def organise_index(request: HttpRequest) -> HttpResponse:
    petitions = selectors.petitions_for_member(user=request.user)
    return render(
        request, "petitions/organise/index.html", {"petitions": petitions, "may_create": _may_create(request.user)}
    )


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_new(request: HttpRequest) -> HttpResponse:
    if not _may_create(request.user):
        raise PermissionDenied(_("Only organisers can start petitions."))
    form = PetitionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        petition = services.petition_create(petition=form.save(commit=False), by=request.user)
        messages.success(request, _("Draft saved. Open it when it is ready."))
        return redirect("petitions:organise_dashboard", slug=petition.slug)
    return render(request, "petitions/organise/form.html", {"form": form, "petition": None},
                  status=400 if form.errors else 200)  # fmt: skip


@organiser_view
@require_GET
def organise_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    petition, role = selectors.petition_for_member(slug=slug, user=request.user)
    context = selectors.petition_dashboard(petition=petition, page_number=request.GET.get("page"))
    transitions = {
        PetitionStatus.DRAFT: ["open", "archive"],
        PetitionStatus.OPEN: ["close"],
        PetitionStatus.CLOSED: ["deliver", "archive"],
        PetitionStatus.DELIVERED: ["archive"],
    }.get(petition.status, [])
    context.update(
        petition=petition,
        role=role,
        can_edit=role in (MembershipRole.OWNER, MembershipRole.ORGANISER),
        is_owner=role == MembershipRole.OWNER,
        transitions=transitions,
    )
    return render(request, "petitions/organise/dashboard.html", context)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_edit(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    form = PetitionForm(request.POST or None, request.FILES or None, instance=petition)
    if request.method == "POST" and form.is_valid():
        services.petition_save(petition=form.save(commit=False), by=request.user)
        messages.success(request, _("Saved."))
        return redirect("petitions:organise_dashboard", slug=petition.slug)
    return render(request, "petitions/organise/form.html", {"form": form, "petition": petition},
                  status=400 if form.errors else 200)  # fmt: skip


@organiser_view
@require_POST
def organise_transition(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.OWNER)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.TRANSITIONS[form.cleaned_data["move"]](petition=petition)
            messages.success(request, _("The petition is now %(status)s.") % {"status": petition.get_status_display()})
        except services.PetitionStateError as exc:
            messages.error(request, str(exc))
    return redirect("petitions:organise_dashboard", slug=petition.slug)


@organiser_view
@require_POST
def organise_invalidate(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    form = InvalidateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason: it is kept on record with the decision."))
        return redirect("petitions:organise_dashboard", slug=petition.slug)
    data = form.cleaned_data
    try:
        invalidation = review.signatures_invalidate(
            petition=petition,
            by=request.user,
            reason=data["reason"],
            ip_hash=data["value"] if data["kind"] == "ip" else "",
            email_domain=data["value"] if data["kind"] == "domain" else "",
            since=data["since"],
            until=data["until"],
        )
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(n)d signature(s) set aside; the count follows within seconds.") % {"n": invalidation.signature_count},
        )
    return redirect("petitions:organise_dashboard", slug=petition.slug)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_members(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.OWNER)
    form = MemberForm(request.POST or None)
    if request.method == "POST":
        if "remove" in request.POST:
            try:
                services.petition_member_remove(petition=petition, membership_id=int(request.POST["remove"]))
            except (ValueError, services.PetitionError) as exc:
                messages.error(request, str(exc))
            return redirect("petitions:organise_members", slug=petition.slug)
        if "withdraw" in request.POST:
            withdrawn = request.POST["withdraw"]
            petition.invitations.filter(pk=int(withdrawn) if withdrawn.isdigit() else 0).delete()
            return redirect("petitions:organise_members", slug=petition.slug)
        if form.is_valid():
            # The same answer whether or not an account has this address: they join when they accept.
            services.petition_invite(
                petition=petition, email=form.cleaned_data["email"], role=form.cleaned_data["role"], by=request.user
            )
            messages.success(request, _("Invitation sent to %(email)s. They join when they accept it.")
                             % {"email": form.cleaned_data["email"]})  # fmt: skip
            return redirect("petitions:organise_members", slug=petition.slug)
    memberships = list(petition.memberships.select_related("user"))
    invitations = list(petition.invitations.all())
    return render(
        request,
        "petitions/organise/members.html",
        {"petition": petition, "memberships": memberships, "invitations": invitations, "form": form,
         "now": timezone.now()},
        status=400 if form.errors else 200,
    )  # fmt: skip


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def organise_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation to organise a petition: GET shows it with a button (mail scanners open links); POST joins."""
    try:
        invitation = services.petition_invitation_for_token(token=token)
        if request.method == "POST":
            services.petition_invitation_accept(token=token, user=request.user)
            messages.success(request, _("You are now an organiser of this petition."))
            return redirect("petitions:organise_dashboard", slug=invitation.petition.slug)
    except services.InvitationInvalid as exc:
        return _token_problem(request, exc, status=410)
    return render(request, "petitions/organise/invitation.html", {"invitation": invitation})


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
        return _token_problem(request, exc, status=410)
    if request.method == "POST":
        erased = data_requests.signer_data_erase(token=token)
        return render(request, "petitions/my_data_erase.html", {"done": True, "erased": erased})
    return render(request, "petitions/my_data_erase.html", {"done": False})
