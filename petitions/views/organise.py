"""The organisers' pages under /organise/: their petitions, a new one, the dashboard, editing, moves between states,
setting signatures aside, members and invitations."""

import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.middleware import user_has_totp
from petitions import selectors
from petitions.forms import (
    InvalidateForm,
    MemberForm,
    PetitionForm,
    TransitionForm,
)
from petitions.models import MembershipRole, PetitionMembership, PetitionStatus, role_allows
from petitions.services import editing, errors, lifecycle, memberships
from petitions.views.signing import token_problem
from signatures.services import review

logger = logging.getLogger(__name__)


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


@organiser_view
@require_GET
def organise_index(request: HttpRequest) -> HttpResponse:
    petitions = selectors.petitions_for_member(user=request.user)
    return render(
        request,
        "petitions/organise/index.html",
        {"petitions": petitions, "may_create": editing.petition_create_allowed(user=request.user)},
    )


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_new(request: HttpRequest) -> HttpResponse:
    if not editing.petition_create_allowed(user=request.user):
        raise PermissionDenied(_("Only organisers can start petitions."))
    form = PetitionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        petition = editing.petition_create(petition=form.save(commit=False), by=request.user)
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
        can_edit=role_allows(role, MembershipRole.ORGANISER),
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
        editing.petition_save(petition=form.save(commit=False), by=request.user)
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
            lifecycle.TRANSITIONS[form.cleaned_data["move"]](petition=petition)
            messages.success(request, _("The petition is now %(status)s.") % {"status": petition.get_status_display()})
        except errors.PetitionStateError as exc:
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
                memberships.petition_member_remove(petition=petition, membership_id=int(request.POST["remove"]))
            except (ValueError, errors.PetitionError) as exc:
                messages.error(request, str(exc))
            return redirect("petitions:organise_members", slug=petition.slug)
        if "withdraw" in request.POST:
            withdrawn = request.POST["withdraw"]
            petition.invitations.filter(pk=int(withdrawn) if withdrawn.isdigit() else 0).delete()
            return redirect("petitions:organise_members", slug=petition.slug)
        if form.is_valid():
            # The same answer whether or not an account has this address: they join when they accept.
            memberships.petition_invite(
                petition=petition, email=form.cleaned_data["email"], role=form.cleaned_data["role"], by=request.user
            )
            messages.success(request, _("Invitation sent to %(email)s. They join when they accept it.")
                             % {"email": form.cleaned_data["email"]})  # fmt: skip
            return redirect("petitions:organise_members", slug=petition.slug)
    members = list(petition.memberships.select_related("user"))
    invitations = list(petition.invitations.all())
    return render(
        request,
        "petitions/organise/members.html",
        {"petition": petition, "memberships": members, "invitations": invitations, "form": form,
         "now": timezone.now()},
        status=400 if form.errors else 200,
    )  # fmt: skip


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def organise_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation to organise a petition: GET shows it with a button (mail scanners open links); POST joins."""
    try:
        invitation = memberships.petition_invitation_for_token(token=token)
        if request.method == "POST":
            memberships.petition_invitation_accept(token=token, user=request.user)
            messages.success(request, _("You are now an organiser of this petition."))
            return redirect("petitions:organise_dashboard", slug=invitation.petition.slug)
    except memberships.InvitationInvalid as exc:
        return token_problem(request, exc, status=410)
    return render(request, "petitions/organise/invitation.html", {"invitation": invitation})
