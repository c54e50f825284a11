import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# At start, say at once whether signatures can be queued in Redis (it must persist them): the verdict is logged, as
# an error when the intake is off for that reason.
from signatures.services.intake import intake_startup_check  # noqa: E402

intake_startup_check()
