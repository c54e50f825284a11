"""The petition owners' page for API tokens: make one (shown once), see each one's last use, revoke one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import TokenForm
from api.models import ApiToken
from api.services.tokens import TokenRefused, api_token_create, api_token_revoke
from petitions import selectors
from petitions.models import MembershipRole


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.OWNER)
    form = TokenForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        try:
            made = api_token_create(petition=petition, by=request.user, **form.cleaned_data)
        except TokenRefused as exc:
            form.add_error(None, str(exc))
        else:
            form = TokenForm()
    tokens = list(petition.api_tokens.select_related("created_by", "revoked_by"))
    return render(
        request,
        "api/tokens.html",
        {"petition": petition, "tokens": tokens, "form": form, "made": made},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    petition, _role = selectors.petition_for_member(slug=slug, user=request.user, role=MembershipRole.OWNER)
    token = get_object_or_404(ApiToken, pk=token_id, petition=petition)
    try:
        api_token_revoke(token=token, by=request.user)
    except TokenRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The token %(name)s no longer works.") % {"name": token.name})
    return redirect("api:tokens", slug=petition.slug)
