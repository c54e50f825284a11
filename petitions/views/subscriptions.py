"""The links in every mailing: one-click unsubscribe from a petition's mail (RFC 8058), and the page of all of a
signer's subscriptions. Neither needs an account: the signed link is the key."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from petitions.views.signing import token_problem
from signatures.services import subscriptions


class LinkInvalid(Exception):
    pass


@csrf_exempt  # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" with no session; the link is the key
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links; only a person, or a mail client's unsubscribe button, POSTs);
    POST unsubscribes, at once and without asking again."""
    signature_id = subscriptions.unsubscribe_token_read(token)
    subscription = subscriptions.subscription_of(signature_id=signature_id) if signature_id else None
    if subscription is None:
        problem = _("This unsubscribe link is not valid: it may be incomplete, or your details were erased already.")
        return token_problem(request, LinkInvalid(problem), status=400)
    if request.method == "POST":
        subscriptions.signature_unsubscribe(signature_id=signature_id)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse(_("Unsubscribed.\n"), content_type="text/plain; charset=utf-8")
        context = {"subscription": subscription, "done": True,
                   "subscriptions_token": subscriptions.subscriptions_token(signature_id=signature_id)}  # fmt: skip
        return render(request, "petitions/unsubscribe.html", context)
    context = {"subscription": subscription, "done": False}
    return render(request, "petitions/unsubscribe.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def subscriptions_page(request: HttpRequest, token: str) -> HttpResponse:
    """Every petition the signer signed, and whether its organisers may e-mail them; each can be stopped or
    resumed."""
    signature_id = subscriptions.subscriptions_token_read(token)
    if signature_id is None:
        return token_problem(request, LinkInvalid(_("This link is not valid: it may be incomplete.")), status=400)
    if request.method == "POST":
        action = request.POST.get("action")
        target = request.POST.get("signature", "")
        if action not in ("stop", "resume") or not target.isdigit():
            messages.error(request, _("Choose a petition, then stop or resume its e-mails."))
        elif not subscriptions.signer_owns(signature_id=signature_id, other_id=int(target)):
            messages.error(request, _("That is not one of your subscriptions."))
        elif action == "stop":
            subscriptions.signature_unsubscribe(signature_id=int(target))
            messages.success(request, _("Done: you will get no more e-mails about that petition."))
        elif subscriptions.signature_resubscribe(signature_id=int(target)):
            messages.success(request, _("Done: its organisers may e-mail you again."))
        else:
            messages.error(request, _("Only a confirmed signature can hear from the organisers again."))
        return redirect("petitions:subscriptions", token=token)
    rows = subscriptions.signer_subscriptions(signature_id=signature_id)
    return render(request, "petitions/subscriptions.html", {"subscriptions": rows})
