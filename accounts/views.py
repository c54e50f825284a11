from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import AccountDeleteForm, ProfileForm
from accounts.roles import user_roles
from accounts.services.deletion import AccountDeletionRefused, account_delete


@verified_email_required
def profile(request):
    """The reader's own page: the public name, and links to e-mail, password and two-factor settings."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your display name is saved."))
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "roles": sorted(user_roles(request.user))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_delete_view(request):
    """Delete one's own account, after typing the password again. Refused, with the reason, while the account is the
    only owner of a petition."""
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            account_delete(user=request.user)
        except AccountDeletionRefused as exc:
            form.add_error(None, str(exc))
        else:
            logout(request)
            messages.success(request, _("Your account is deleted, and the words of your comments with it."))
            return redirect("/")
    return render(request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200)
