from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person with an account: a reader, or staff in one of the roles (see accounts.roles).

    E-mail is the login (allauth keeps addresses and their verification in its EmailAddress table). The public only
    ever sees `display_name`, never the e-mail or the full name.
    """

    display_name = models.CharField(
        _("display name"),
        max_length=50,
        help_text=_("Shown with your comments. Use any name you like; it need not be your real one."),
    )

    def __str__(self) -> str:
        return self.display_name or self.email or self.username

    @property
    def public_name(self) -> str:
        return self.display_name or _("Reader %(id)s") % {"id": self.pk}
