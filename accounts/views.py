from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.forms import ProfileForm
from accounts.roles import user_roles


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
