from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import user_is_staff_role


def user_has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffMFARequiredMiddleware:
    """Staff (editors, organisers, moderators, admins) set up a second factor before they reach their tools.

    A staff account without an authenticator app that asks for a path under VIGIL_MFA_REQUIRED_PATH_PREFIXES is
    sent to set one up first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._needs_setup(request):
            messages.info(request, _("Your role needs a second sign-in step. Set up an authenticator app to continue."))
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _needs_setup(request) -> bool:
        if not request.path.startswith(tuple(settings.VIGIL_MFA_REQUIRED_PATH_PREFIXES)):
            return False
        user = request.user
        return user_is_staff_role(user) and not user_has_totp(user)
