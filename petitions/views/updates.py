"""Updates: the organisers' pages that write, publish and take them down, and the public list and page of each; and
the page where organisers record the outcome and the decision maker's response."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import pagecache
from core.storage import private_storage
from petitions import selectors
from petitions.forms import OutcomeForm, ResponseForm, ThresholdsForm, UpdateForm
from petitions.models import MembershipRole, Petition, PetitionUpdate
from petitions.services import mailings, outcomes, thresholds, updates
from petitions.services.errors import PetitionStateError
from petitions.views.organise import organiser_view


def _member_update(request: HttpRequest, slug: str, number: int, *, with_role: bool = False):
    petition, role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    update = get_object_or_404(PetitionUpdate, petition=petition, number=number)
    update.petition = petition
    return (petition, update, role) if with_role else (petition, update)


def _form_errors(form: UpdateForm, exc: updates.UpdateInvalid) -> None:
    for field, message in exc.errors.items():
        form.add_error(field if field in form.fields else None, message)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_updates(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    milestones = selectors.petition_thresholds(petition=petition)
    setting_milestones = request.method == "POST" and request.POST.get("form") == "milestones"
    thresholds_form = ThresholdsForm(
        request.POST if setting_milestones else None,
        initial={"counts": " ".join(f"{t.count:,}" for t in milestones if t.crossed_at is None)},
    )
    if setting_milestones and thresholds_form.is_valid():
        try:
            counts = thresholds.thresholds_parse(thresholds_form.cleaned_data["counts"])
            thresholds.petition_thresholds_set(petition=petition, counts=counts)
        except thresholds.ThresholdsInvalid as exc:
            thresholds_form.add_error("counts", str(exc))
        else:
            messages.success(request, _("Milestones saved."))
            return redirect("petitions:organise_updates", slug=petition.slug)
    form = UpdateForm(None if setting_milestones else (request.POST or None), request.FILES or None)
    del form.fields["remove_image"]  # a new update has no picture to remove
    if request.method == "POST" and not setting_milestones and form.is_valid():
        data = form.cleaned_data
        try:
            made = updates.petition_update_create(
                petition=petition,
                by=request.user,
                title=data["title"],
                body=data["body"],
                image=data["image"],
                image_alt=data["image_alt"],
            )
        except updates.UpdateInvalid as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Saved as a draft: publish it when it is ready."))
            return redirect("petitions:organise_update", slug=petition.slug, number=made.number)
    context = {"petition": petition, "form": form, "thresholds_form": thresholds_form, "milestones": milestones,
               "updates": selectors.petition_updates_for_organisers(petition=petition)}  # fmt: skip
    failed = form.errors or thresholds_form.errors
    return render(request, "petitions/organise/updates.html", context, status=400 if failed else 200)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_update(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    petition, update, role = _member_update(request, slug, number, with_role=True)
    form = UpdateForm(request.POST or None, request.FILES or None,
                      initial={"title": update.title, "body": update.body, "image_alt": update.image_alt})  # fmt: skip
    if not update.image:
        del form.fields["remove_image"]
    if request.method == "POST" and form.is_valid():
        try:
            updates.petition_update_edit(update=update, **form.cleaned_data)
        except updates.UpdateInvalid as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("petitions:organise_update", slug=petition.slug, number=update.number)
    context = {"petition": petition, "update": update, "form": form,
               **mailings.update_mailing_panel(update=update, user=request.user, role=role)}  # fmt: skip
    return render(request, "petitions/organise/update.html", context, status=400 if form.errors else 200)


@organiser_view
@require_POST
def organise_update_action(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    petition, update = _member_update(request, slug, number)
    action = request.POST.get("action")
    try:
        if action == "publish":
            if updates.petition_update_publish(update=update):
                messages.success(request, _("Published: it is on the petition's page and in its feeds."))
            else:
                messages.info(request, _("It was published already."))
        elif action == "unpublish":
            updates.petition_update_unpublish(update=update)
            messages.success(request, _("Taken down: it is a draft again."))
        elif action == "delete":
            updates.petition_update_delete(update=update)
            messages.success(request, _("The draft was removed."))
            return redirect("petitions:organise_updates", slug=petition.slug)
        elif action == "mail":
            mailings.update_mailing_request(update=update, by=request.user)
            messages.success(request, _("Asked for: a second owner must approve the mailing before it goes."))
        elif action in ("approve", "cancel"):
            mailing = getattr(update, "mailing", None)
            if mailing is None:
                messages.error(request, _("This update has no mailing to approve or cancel."))
            elif action == "approve":
                if mailings.update_mailing_approve(mailing=mailing, by=request.user):
                    messages.success(request, _("Approved: the e-mails are going out."))
                else:
                    messages.info(request, _("It was approved already."))
            elif mailings.update_mailing_cancel(mailing=mailing, by=request.user):
                messages.success(request, _("The mailing was cancelled: nothing more of it will be sent."))
            else:
                messages.info(request, _("There was nothing left to cancel."))
        else:
            messages.error(request, _("Choose publish, take down, remove, e-mail, approve or cancel."))
    except PetitionStateError as exc:
        messages.error(request, str(exc))
    except mailings.MailingRefused as exc:
        messages.error(request, str(exc))
    return redirect("petitions:organise_update", slug=petition.slug, number=update.number)


@organiser_view
@require_GET
def organise_update_mailing(request: HttpRequest, slug: str, number: int) -> JsonResponse:
    """The mailing's progress, for the update's page to poll while it goes out."""
    _petition, update = _member_update(request, slug, number)
    mailing = getattr(update, "mailing", None)
    if mailing is None or mailing.approved_at is None:
        return JsonResponse({"state": mailing.state if mailing else "none"}, status=404 if mailing is None else 200)
    return JsonResponse(mailings.update_mailing_report(mailing=mailing))


@require_GET
@pagecache.shared_page(query={"page": pagecache.small_page_number})
def petition_updates(request: HttpRequest, slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    page = selectors.petition_updates_page(petition=petition, page_number=request.GET.get("page"))
    return render(request, "petitions/updates.html", {"petition": petition, "page": page})


@require_GET
@pagecache.shared_page()
def petition_update(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    update = selectors.petition_update_public(petition=petition, number=number)
    return render(request, "petitions/update_detail.html", {"petition": petition, "update": update})


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_outcome(request: HttpRequest, slug: str) -> HttpResponse:
    """The outcome (a banner) and the decision maker's response, each with its own form on one page."""
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.ORGANISER)
    which = request.POST.get("form") if request.method == "POST" else None
    if which == "draft":
        try:
            draft = outcomes.petition_ending_draft(petition=petition, by=request.user, which=request.POST.get("which"))
        except PetitionStateError as exc:
            messages.error(request, str(exc))
            return redirect("petitions:organise_outcome", slug=petition.slug)
        messages.success(request, _("Drafted: edit it, publish it, then ask to e-mail it."))
        return redirect("petitions:organise_update", slug=petition.slug, number=draft.number)
    outcome_form = OutcomeForm(request.POST if which == "outcome" else None,
                               initial={"outcome": petition.outcome, "note": petition.outcome_note})  # fmt: skip
    response_form = ResponseForm(
        request.POST if which == "response" else None,
        request.FILES if which == "response" else None,
        initial={"answered_by": petition.response_by, "answered_on": petition.response_on,
                 "text": petition.response_text, "link": petition.response_link},
    )  # fmt: skip
    form = {"outcome": outcome_form, "response": response_form}.get(which)
    if form is not None and form.is_valid():
        try:
            if which == "outcome":
                outcomes.petition_outcome_set(petition=petition, **form.cleaned_data)
            else:
                outcomes.petition_response_record(petition=petition, **form.cleaned_data)
        except outcomes.OutcomeInvalid as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        except PetitionStateError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Saved: it is on the petition's page."))
            return redirect("petitions:organise_outcome", slug=petition.slug)
    if not petition.response_document:
        del response_form.fields["remove_document"]
    context = {"petition": petition, "outcome_form": outcome_form, "response_form": response_form}
    return render(request, "petitions/organise/outcome.html", context, status=400 if form and form.errors else 200)


@require_GET
def petition_response_document(request: HttpRequest, slug: str) -> FileResponse:
    """The decision maker's response as the organisers uploaded it (a PDF), while the petition is public."""
    petition = selectors.petition_public(slug=slug)
    name = Petition.objects.filter(pk=petition.pk).values_list("response_document", flat=True).first()
    if not name:
        raise Http404("This petition's response has no document.")
    try:
        handle = private_storage().open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("The document is no longer here.") from exc
    response = FileResponse(handle, as_attachment=True, filename=f"{petition.slug}-response.pdf",
                            content_type="application/pdf")  # fmt: skip
    response["Cache-Control"] = "public, max-age=300"
    return response
