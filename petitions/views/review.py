"""The organisers' fraud tools under /organise/: signature rules (a petition's, and staff's for every petition),
the signatures the rules held, and invalidation jobs (counted, run, stopped, reversed)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from petitions import selectors
from petitions.forms import InvalidationJobForm, RuleChangeForm, RuleForm
from petitions.models import MembershipRole, role_allows
from petitions.views.organise import organiser_view
from signatures import selectors as signature_selectors
from signatures.models import SignatureInvalidation, SignatureRule
from signatures.services import review, rules


def _rule_add(request: HttpRequest, form: RuleForm, *, petition) -> bool:
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        rules.signature_rule_add(
            petition=petition, by=request.user, kind=data["kind"], action=data["action"], value=data["value"],
            limit=data["limit"], note=data["note"],
        )  # fmt: skip
    except rules.RuleError as exc:
        form.add_error("value", str(exc))
        return False
    messages.success(request, _("Rule added. It applies to new signatures within seconds."))
    return True


def _rules_page(request: HttpRequest, *, petition, can_edit: bool) -> HttpResponse:
    form = RuleForm(request.POST or None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only organisers can change the rules."))
        if _rule_add(request, form, petition=petition):
            return redirect(request.path)
    petition_id = petition.pk if petition is not None else None
    context = {
        "petition": petition,
        "form": form,
        "can_edit": can_edit,
        "rules": signature_selectors.signature_rules_for(petition_id=petition_id),
        "changes": signature_selectors.signature_rule_changes(petition_id=petition_id),
    }
    return render(request, "petitions/organise/rules.html", context, status=400 if form.errors else 200)


def _rule_remove(request: HttpRequest, *, petition, rule_id: int) -> None:
    rule = SignatureRule.objects.filter(pk=rule_id, petition=petition).first()
    if rule is None:
        raise Http404(_("No such rule."))
    if rules.signature_rule_remove(rule=rule, by=request.user):
        messages.success(request, _("Rule removed. What it held stays held until reviewed."))


def _rule_page(request: HttpRequest, *, petition, rule_id: int, can_edit: bool, back: str) -> HttpResponse:
    rule = SignatureRule.objects.filter(pk=rule_id, petition=petition, removed_at__isnull=True).first()
    if rule is None:
        raise Http404(_("No such rule."))
    form = RuleChangeForm(request.POST or None, initial={"action": rule.action, "note": rule.note})
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only organisers can change the rules."))
        if form.is_valid():
            try:
                changed = rules.signature_rule_change(
                    rule=rule, by=request.user, action=form.cleaned_data["action"], note=form.cleaned_data["note"]
                )
            except rules.RuleError as exc:
                form.add_error("action", str(exc))
            else:
                if changed:
                    messages.success(request, _("Rule changed. New signatures follow it within seconds."))
                return redirect(back)
    context = {
        "petition": petition,
        "rule": rule,
        "form": form,
        "can_edit": can_edit,
        "back": back,
        "changes": list(rule.changes.select_related("by")),
    }
    return render(request, "petitions/organise/rule.html", context, status=400 if form.errors else 200)


def _staff_only(request: HttpRequest) -> None:
    if not request.user.has_perm("signatures.add_signaturerule"):
        raise PermissionDenied(_("Rules for every petition are kept by staff."))


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_rules(request: HttpRequest, slug: str) -> HttpResponse:
    petition, role = selectors.petition_for_member(slug=slug, user=request.user)
    can_edit = role_allows(role, MembershipRole.ORGANISER)
    return _rules_page(request, petition=petition, can_edit=can_edit)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_rule(request: HttpRequest, slug: str, rule_id: int) -> HttpResponse:
    petition, role = selectors.petition_for_member(slug=slug, user=request.user)
    can_edit = role_allows(role, MembershipRole.ORGANISER)
    back = reverse("petitions:organise_rules", args=[petition.slug])
    return _rule_page(request, petition=petition, rule_id=rule_id, can_edit=can_edit, back=back)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_rule_everywhere(request: HttpRequest, rule_id: int) -> HttpResponse:
    _staff_only(request)
    back = reverse("petitions:organise_rules_everywhere")
    return _rule_page(request, petition=None, rule_id=rule_id, can_edit=True, back=back)


@organiser_view
@require_POST
def organise_rule_remove(request: HttpRequest, slug: str, rule_id: int) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    _rule_remove(request, petition=petition, rule_id=rule_id)
    return redirect("petitions:organise_rules", slug=petition.slug)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_rules_everywhere(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    return _rules_page(request, petition=None, can_edit=True)


@organiser_view
@require_POST
def organise_rule_remove_everywhere(request: HttpRequest, rule_id: int) -> HttpResponse:
    _staff_only(request)
    _rule_remove(request, petition=None, rule_id=rule_id)
    return redirect("petitions:organise_rules_everywhere")


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_held(request: HttpRequest, slug: str) -> HttpResponse:
    """Signatures a rule held: counted one by one, or set aside together by a job (criteria: the rule)."""
    petition, role = selectors.petition_for_member(slug=slug, user=request.user)
    can_edit = role_allows(role, MembershipRole.ORGANISER)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only organisers can review held signatures."))
        try:
            signature_id = int(request.POST.get("signature", "") or 0)
            rule_id = int(request.POST.get("rule", "") or 0)
        except ValueError:
            signature_id = rule_id = 0
        if rule_id:
            counted = review.signatures_release_by_rule(petition=petition, rule_id=rule_id, by=request.user)
            messages.success(
                request,
                ngettext(
                    "%(n)d signature counted: it joins the count within seconds.",
                    "%(n)d signatures counted: they join the count within seconds.",
                    counted,
                )
                % {"n": counted},
            )
        elif not signature_id:
            messages.error(request, _("Choose a signature."))
        elif review.signature_release(petition=petition, signature_id=signature_id, by=request.user):
            messages.success(request, _("Counted: it joins the count within seconds."))
        else:
            messages.error(request, _("That signature is no longer held."))
        return redirect(request.get_full_path())
    page = signature_selectors.signatures_held_page(petition_id=petition.pk, page_number=request.GET.get("page"))
    context = {
        "petition": petition,
        "page": page,
        "can_edit": can_edit,
        "by_rule": signature_selectors.signatures_held_by_rule(petition_id=petition.pk),
    }
    return render(request, "petitions/organise/held.html", context)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_invalidations(request: HttpRequest, slug: str) -> HttpResponse:
    """Invalidation jobs: the list, and a new one counted (a dry run) before anything is set aside."""
    petition, role = selectors.petition_for_member(slug=slug, user=request.user)
    can_edit = role_allows(role, MembershipRole.ORGANISER)
    choices = signature_selectors.signature_rules_applying(petition_id=petition.pk)
    form = InvalidationJobForm(request.POST or None, initial=request.GET.dict() or None, rules=choices)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only organisers can set signatures aside."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                criteria = review.criteria_clean(
                    domain=data["domain"], ip_hash=data["ip_hash"], country=data["country"], since=data["since"],
                    until=data["until"], name=data["name"], rule=data["rule"],
                )  # fmt: skip
                job = review.invalidation_count(
                    petition=petition, by=request.user, reason=data["reason"], criteria=criteria
                )
            except review.ReviewError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("petitions:organise_invalidation", slug=petition.slug, job_id=job.pk)
    context = {
        "petition": petition,
        "form": form,
        "can_edit": can_edit,
        "jobs": signature_selectors.invalidation_jobs(petition_id=petition.pk),
    }
    return render(request, "petitions/organise/invalidations.html", context, status=400 if form.errors else 200)


def _job_for(petition, job_id: int) -> SignatureInvalidation:
    job = (
        SignatureInvalidation.objects.filter(pk=job_id, petition=petition)
        .select_related("created_by", "cancelled_by", "reversed_by")
        .first()
    )
    if job is None:
        raise Http404(_("No such job."))
    return job


def _job_figures(job: SignatureInvalidation) -> dict:
    return {
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "matched": job.matched,
        "set_aside": job.signature_count,
        "restored": job.restored_count,
        "active": job.is_active,
    }


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_invalidation(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """One job: its criteria, count and sample; run it, stop it, reverse it."""
    petition, role = selectors.petition_for_member(slug=slug, user=request.user)
    can_edit = role_allows(role, MembershipRole.ORGANISER)
    job = _job_for(petition, job_id)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only organisers can set signatures aside."))
        move = request.POST.get("move")
        try:
            if move == "run":
                review.invalidation_start(job=job, by=request.user)
                messages.success(request, _("Setting aside: the figures below follow it."))
            elif move == "cancel":
                if review.invalidation_cancel(job=job, by=request.user):
                    messages.success(request, _("Stopped. What was set aside stays so until you reverse the job."))
                else:
                    messages.error(request, _("This job is not running: there is nothing to stop."))
            elif move == "reverse":
                review.invalidation_reverse(job=job, by=request.user)
                messages.success(request, _("Restoring every signature the job set aside."))
            else:
                messages.error(request, _("Choose what to do."))
        except review.ReviewError as exc:
            messages.error(request, str(exc))
        return redirect("petitions:organise_invalidation", slug=petition.slug, job_id=job.pk)
    criteria = review.Criteria.from_json(job.criteria)
    context = {
        "petition": petition,
        "job": job,
        "can_edit": can_edit,
        "criteria": criteria,
        "sample": review.invalidation_sample(job=job),
        "figures": _job_figures(job),
        "rule": SignatureRule.objects.filter(pk=criteria.rule).first() if criteria.rule else None,
    }
    return render(request, "petitions/organise/invalidation.html", context)


@organiser_view
@require_GET
def organise_invalidation_progress(request: HttpRequest, slug: str, job_id: int) -> JsonResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user)
    return JsonResponse(_job_figures(_job_for(petition, job_id)))
