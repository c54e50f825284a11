"""Sign-on letters on the web: the public letter page with its sign-on form, the e-mailed confirmation, and the
organisers' pages (write, open, review sign-ons, open proof documents, compile, download)."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import pagecache
from deliverables import selectors as deliverables
from deliverables.forms import LetterForm, LetterTextForm, ReviewForm, signon_form_class
from deliverables.models import LetterState, SignOn
from deliverables.private_files import private_exists
from deliverables.services.letters import (
    LetterError,
    letter_close,
    letter_compile_request,
    letter_create,
    letter_open,
    letter_save,
)
from deliverables.services.signons import (
    SignOnError,
    SignOnTokenError,
    signon_confirm,
    signon_create,
    signon_for_token,
    signon_review,
    signon_upload_max_bytes,
)
from deliverables.views.downloads import job_file_response, private_file_response
from petitions import selectors
from petitions.models import MembershipRole
from petitions.views.organise import organiser_view
from signatures.ratelimits import rate_limited

ORGANISER = MembershipRole.ORGANISER


# --- Public -----------------------------------------------------------------------------------------------------------


def _letter_page(request, petition, letter, form, *, status=200, notice=""):
    context = {
        "petition": petition,
        "letter": letter,
        "version": letter.current_version,
        "page": deliverables.signons_public_page(letter=letter, page_number=request.GET.get("page")),
        "form": form,
        "notice": notice,
    }
    return render(request, "deliverables/letters/letter_detail.html", context, status=status)


def _body_max_bytes(letter) -> int:
    return signon_upload_max_bytes(letter=letter) + settings.VIGIL_UPLOAD_BODY_MARGIN_BYTES


def _body_too_large(request: HttpRequest, letter) -> bool:
    """Whether the request announces a body larger than the form can take. Read from the header alone: under WSGI
    (gunicorn, the Dockerfile's server) Django reads no more than Content-Length, so nothing of a refused body is read
    or written to disk. Under ASGI Django reads the whole body before any view runs: there the server or proxy has to
    limit it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django reads such a body as empty
    return length > _body_max_bytes(letter)


# csrf_exempt: the CSRF check reads the body, so the size is checked first and the CSRF check follows in
# _letter_sign (Django's documented pattern for a view that must act before the body is read).
@csrf_exempt
@require_http_methods(["GET", "POST"])
@pagecache.shared_page(query={"page": pagecache.small_page_number})
def letter_detail(request: HttpRequest, slug: str, letter_slug: str) -> HttpResponse:
    petition = selectors.petition_public(slug=slug)
    letter = deliverables.letter_public(petition=petition, slug=letter_slug)
    form_class = signon_form_class(letter)
    if request.method == "GET":
        return _letter_page(request, petition, letter, form_class() if letter.accepts_signatures else None)
    if _body_too_large(request, letter):
        notice = _(
            "What you sent is too large: a file may be at most %(size)s. Choose a smaller file and send the form again."
        ) % {"size": filesizeformat(signon_upload_max_bytes(letter=letter))}
        form = form_class() if letter.accepts_signatures else None
        return _letter_page(request, petition, letter, form, status=413, notice=notice)
    return _letter_sign(request, petition, letter, form_class)


@csrf_protect
def _letter_sign(request: HttpRequest, petition, letter, form_class) -> HttpResponse:
    """Sign a letter. Every post counts against the client's address; a repeat (an address or a website that has
    signed) gets the same page as a new sign-on, and the address given is told by e-mail (signon_create)."""
    if rate_limited(request, group="signatures:signon:ip", rate=settings.VIGIL_SIGNON_RATE_PER_IP):
        notice = _("Many sign-ons came from your address in a short while. Wait a little and send the form again; "
                   "what you typed is still here (choose any file again).")  # fmt: skip
        form = form_class(request.POST) if letter.accepts_signatures else None
        return _letter_page(request, petition, letter, form, status=429, notice=notice)
    form = form_class(request.POST, request.FILES)
    if not letter.accepts_signatures:
        return _letter_page(
            request, petition, letter, None, status=409, notice=_("This letter is not open for signatures.")
        )
    if not form.is_valid():
        return _letter_page(request, petition, letter, form, status=400)
    data = form.cleaned_data
    try:
        signon_create(letter=letter, details=form.details(), logo=data.get("logo"), proof=data.get("proof"))
    except SignOnError as exc:
        form.add_error(None, str(exc))
        return _letter_page(request, petition, letter, form, status=400)
    return render(request, "deliverables/letters/signon_thanks.html", {"petition": petition, "letter": letter})


@never_cache
@require_http_methods(["GET", "POST"])
def signon_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links); POST confirms."""
    try:
        if request.method == "GET":
            signon = signon_for_token(token=token)
            return render(
                request, "deliverables/letters/signon_confirm.html", {"signon": signon, "letter": signon.letter}
            )
        signon, first_time = signon_confirm(token=token)
    except SignOnTokenError as exc:
        return render(request, "petitions/token_problem.html", {"message": str(exc)}, status=400)
    return render(
        request,
        "deliverables/letters/signon_confirmed.html",
        {"signon": signon, "letter": signon.letter, "first_time": first_time},
    )


# --- Organisers -------------------------------------------------------------------------------------------------------


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_letters(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=ORGANISER)
    form = LetterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            letter = letter_create(
                petition=petition,
                kind=data["kind"],
                slug=data["slug"],
                title=data["title"],
                body=data["body"],
                by=request.user,
            )
        except (LetterError, SignOnError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Draft letter saved. Open it for signatures when it is ready."))
            return redirect("deliverables:organise_letter", slug=petition.slug, letter_slug=letter.slug)
    context = {"petition": petition, "letters": deliverables.letters_for_petition(petition=petition), "form": form}
    return render(request, "deliverables/letters/organise_letters.html", context, status=400 if form.errors else 200)


@organiser_view
@require_http_methods(["GET", "POST"])
def organise_letter(request: HttpRequest, slug: str, letter_slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=ORGANISER)
    letter = deliverables.letter_for_petition(petition=petition, slug=letter_slug)
    initial = {"title": letter.title, "body": letter.body}
    form = LetterTextForm(request.POST or None, initial=initial)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "open":
                letter_open(letter=letter)
                messages.success(request, _("The letter is open for signatures."))
            elif action == "close":
                letter_close(letter=letter)
                messages.success(request, _("The letter is closed."))
            elif form.is_valid():
                version = letter_save(
                    letter=letter, title=form.cleaned_data["title"], body=form.cleaned_data["body"], by=request.user
                )
                messages.success(request, _("Saved as version %(n)d.") % {"n": version.number})
            else:
                raise LetterError(_("Give the letter a title and a text."))
        except (LetterError, SignOnError) as exc:
            messages.error(request, str(exc))
        return redirect("deliverables:organise_letter", slug=petition.slug, letter_slug=letter.slug)
    state = request.GET.get("state", "")
    context = {
        "petition": petition,
        "letter": letter,
        "form": form,
        "state": state,
        "counts": deliverables.signon_counts(letter=letter),
        "page": deliverables.signons_review_page(letter=letter, state=state, page_number=request.GET.get("page")),
        "versions": deliverables.letter_versions(letter=letter),
        "compiles": deliverables.compiles_page(letter=letter, page_number=request.GET.get("cpage")),
        "is_open": letter.state == LetterState.OPEN,
        "public_url": reverse("deliverables:letter_detail", args=[petition.slug, letter.slug]),
    }
    return render(request, "deliverables/letters/organise_letter.html", context)


@organiser_view
@require_POST
def organise_signon_review(request: HttpRequest, slug: str, letter_slug: str, signon_id: int) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=ORGANISER)
    letter = deliverables.letter_for_petition(petition=petition, slug=letter_slug)
    signon = SignOn.objects.filter(pk=signon_id, letter=letter).first()
    if signon is None:
        raise Http404("No such sign-on.")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            signon_review(
                signon=signon,
                verify=form.cleaned_data["decision"] == "verify",
                by=request.user,
                note=form.cleaned_data["note"],
            )
            messages.success(
                request, _("%(name)s: %(state)s.") % {"name": signon.name, "state": signon.get_state_display()}
            )
        except SignOnError as exc:
            messages.error(request, str(exc))
    return redirect(f"{reverse('deliverables:organise_letter', args=[petition.slug, letter.slug])}#signons")


@organiser_view
@require_GET
def organise_signon_proof(request: HttpRequest, slug: str, letter_slug: str, signon_id: int) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=ORGANISER)
    letter = deliverables.letter_for_petition(petition=petition, slug=letter_slug)
    signon = SignOn.objects.filter(pk=signon_id, letter=letter).exclude(proof_file="").first()
    if signon is None or not private_exists(signon.proof_file):
        raise Http404("No proof document.")
    extension = signon.proof_file.rsplit(".", 1)[-1]
    return private_file_response(
        request,
        petition_id=petition.pk,
        kind="proof",
        object_id=signon.pk,
        file_name=signon.proof_file,
        filename=f"proof-{signon.pk}.{extension}",
        content_type=signon.proof_mimetype,
    )


@organiser_view
@require_POST
def organise_letter_compile(request: HttpRequest, slug: str, letter_slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=ORGANISER)
    letter = deliverables.letter_for_petition(petition=petition, slug=letter_slug)
    try:
        compiled = letter_compile_request(letter=letter, by=request.user)
        messages.success(request, _("Compiling version %(n)d…") % {"n": compiled.number})
    except LetterError as exc:
        messages.error(request, str(exc))
    return redirect(f"{reverse('deliverables:organise_letter', args=[petition.slug, letter.slug])}#compiles")


@organiser_view
@require_GET
def organise_compile_progress(request: HttpRequest, slug: str, compile_id: int) -> JsonResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=ORGANISER)
    compiled = deliverables.compile_for_petition(petition=petition, compile_id=compile_id)
    download = reverse("deliverables:organise_compile_download", args=[petition.slug, compiled.pk])
    return JsonResponse(deliverables.job_progress(compiled, download))


@organiser_view
@require_GET
def organise_compile_download(request: HttpRequest, slug: str, compile_id: int) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=ORGANISER)
    compiled = deliverables.compile_for_petition(petition=petition, compile_id=compile_id)
    return job_file_response(
        request,
        job=compiled,
        petition_id=petition.pk,
        kind="letter",
        content_type="application/pdf",
        missing="This compile is not ready.",
    )
