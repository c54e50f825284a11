from django.http import HttpResponse
from django.urls import include, path

from accounts.models import User


def trivial(request):
    """The baseline: one small indexed query and a short response, through the same middleware as every page."""
    User.objects.filter(pk=1).exists()
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("config.urls")),
]
