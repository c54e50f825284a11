"""Vigil's settings, read from the environment (see the table in README.md).

Nothing configured means the embedded default: SQLite, a local-memory cache and Celery tasks run in-process.
DEBUG is off unless DJANGO_DEBUG says otherwise; with DEBUG off every secret must come from the environment.
"""

import ipaddress
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_required, env_str, s3_storages

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DJANGO_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)

if DEBUG:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY") or "dev-only-key-never-used-with-debug-off-3f9c1e7a52b84d0c9e6f"
else:
    SECRET_KEY = env_required(
        "DJANGO_SECRET_KEY",
        "Production needs a long random key (python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
        "or set DJANGO_DEBUG=1 for local development.",
    )

if DEBUG:
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
else:
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS is not set. List the host names the site answers to, separated by commas."
        )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

SITE_NAME = env_str("VIGIL_SITE_NAME", "Vigil")
# Whether the site is served over HTTPS: the security settings follow it, and so does every link written to be read
# away from a request (e-mails: core.links.absolute_url, and allauth's through ACCOUNT_DEFAULT_HTTP_PROTOCOL).
_https = env_bool("DJANGO_HTTPS", not DEBUG)
VIGIL_LINK_SCHEME = "https" if _https else "http"
# The public host name of those links: they are written where no request may be at hand (Celery tasks).
VIGIL_SITE_DOMAIN = env_str("VIGIL_SITE_DOMAIN", "127.0.0.1:8000" if DEBUG else ALLOWED_HOSTS[0])
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "django.contrib.syndication",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_ratelimit",
    # Vigil, from the bottom of the import chain to the top (see README, "Architecture").
    "core",
    "accounts",
    "signatures",
    "petitions",
    "deliverables",
    "articles",
    "comments",
    "api",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.outage.DatabaseOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.middleware.ApiMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMFARequiredMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "articles.context_processors.navigation",
                "comments.context_processors.moderation_queue",
                "core.pagecache.csrf_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------
# DATABASE_URL, e.g. postgres://vigil:secret@db:5432/vigil. Unset: a SQLite file (the embedded default).
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'vigil.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        # A restarted PostgreSQL costs a few failed requests, not a worker holding a dead connection.
        conn_health_checks=True,
    )
}
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, rate limits, Celery --------------------------------------------------------------------------
# REDIS_URL, e.g. redis://redis:6379/0. Unset: a local-memory cache and Celery tasks run in-process.
REDIS_URL = env_str("REDIS_URL") or None

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "vigil",
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "vigil"}}
    # One process serves the embedded default, so its local-memory cache is the shared cache rate limits need.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003"]

# django-ratelimit's list of supported caches predates Django's own RedisCache, whose incr() is atomic.
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "django_ratelimit.W001"]

# --- Celery ------------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "vigil"
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 24 * 3600
# A task is acknowledged only when it finishes, and a task whose worker died goes back to the queue.
# Every task is written to be safe to run twice (see STYLE.md, "Tasks are thin and safe to run twice").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("VIGIL_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("VIGIL_TASK_TIME_LIMIT", 300)
# The longest task (packet exports, compiles) may run this long; the broker's visibility timeout must exceed it,
# or Redis hands a running task to a second worker. A task lost with its worker comes back after this timeout.
VIGIL_LONG_TASK_TIME_LIMIT = env_int("VIGIL_LONG_TASK_TIME_LIMIT", 900)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("VIGIL_BROKER_VISIBILITY_TIMEOUT", VIGIL_LONG_TASK_TIME_LIMIT + 300),
    "socket_connect_timeout": 3,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task keeps running when the worker loses the broker: none needs the broker to finish, and cancelling one cut an
# outbox pump off mid-batch. Its message comes back after the reconnection, and every task is safe to run twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Worker processes lower their CPU priority by this much (os.nice; 0 leaves it): where web and worker share a machine,
# signers' requests come first in a surge and the writes and e-mail behind them use the spare cycles (config/celery.py).
VIGIL_WORKER_NICENESS = env_int("VIGIL_WORKER_NICENESS", 10)
# The periodic tasks are one table, CELERY_BEAT_SCHEDULE, in its own section below ("Periodic tasks"): some intervals
# are settings of the sections between.
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] < VIGIL_LONG_TASK_TIME_LIMIT + 60:
    raise ImproperlyConfigured(
        "VIGIL_BROKER_VISIBILITY_TIMEOUT must exceed VIGIL_LONG_TASK_TIME_LIMIT by at least a minute, "
        "or the broker redelivers tasks that are still running."
    )

# --- E-mail ------------------------------------------------------------------------------------------------------
# Every message goes through the outbox table first (core.mail): it is written in the same transaction as the change
# that caused it, and a Celery task hands it to the delivery backend once that transaction commits.
EMAIL_BACKEND = "core.mail.OutboxBackend"
VIGIL_EMAIL_DELIVERY_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 20)
EMAIL_FILE_PATH = env_str("DJANGO_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Vigil <noreply@localhost>")
VIGIL_MAIL_DOMAIN = env_str("VIGIL_MAIL_DOMAIN", "vigil.localhost")
SERVER_EMAIL = env_str("DJANGO_SERVER_EMAIL", DEFAULT_FROM_EMAIL)
VIGIL_OUTBOX_MAX_ATTEMPTS = env_int("VIGIL_OUTBOX_MAX_ATTEMPTS", 8)
VIGIL_OUTBOX_RESEND_AFTER_SECONDS = env_int("VIGIL_OUTBOX_RESEND_AFTER_SECONDS", 120)

# --- Files ------------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
# Files that must never be public (exports, proof documents) live outside MEDIA_ROOT and are served by views.
VIGIL_PRIVATE_ROOT = Path(env_str("VIGIL_PRIVATE_ROOT", str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("DJANGO_STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
# An S3-compatible object store (django-storages), for more than one host: with VIGIL_S3_BUCKET set, uploads and
# renditions go under its "media/" prefix (served from VIGIL_S3_MEDIA_DOMAIN: the bucket's public address for that
# prefix, or a CDN's) and private files under "private/" (never public: streamed by the views that check who asks).
# Unset: the local folders above (core/storage.py).
VIGIL_S3_BUCKET = env_str("VIGIL_S3_BUCKET", "")
if VIGIL_S3_BUCKET:
    STORAGES.update(
        s3_storages(
            bucket=VIGIL_S3_BUCKET,
            endpoint_url=env_str("VIGIL_S3_ENDPOINT_URL") or None,
            region=env_str("VIGIL_S3_REGION") or None,
            access_key=env_str("VIGIL_S3_ACCESS_KEY_ID") or None,
            secret_key=env_str("VIGIL_S3_SECRET_ACCESS_KEY") or None,
            media_domain=env_str("VIGIL_S3_MEDIA_DOMAIN") or None,
        )
    )
# Uploaded images (core.images): checked by content, size and pixel count, stored without metadata.
VIGIL_IMAGE_MAX_BYTES = env_int("VIGIL_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
VIGIL_IMAGE_MAX_PIXELS = env_int("VIGIL_IMAGE_MAX_PIXELS", 40_000_000)
VIGIL_IMAGE_RENDITION_WIDTHS = (320, 640, 960, 1280, 1920)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)

# --- Accounts: django-allauth, e-mail as the login, verified before taking part, MFA for staff ------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = VIGIL_LINK_SCHEME
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PREVENT_ENUMERATION = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# Staff roles must have a second factor before any of these paths answer them (accounts.middleware).
VIGIL_MFA_REQUIRED_PATH_PREFIXES = ["/admin/", "/moderation/", "/organise/"]

# --- The client's address ---------------------------------------------------------------------------------------
# Behind N trusted reverse proxies, the client is the N-th address from the right of X-Forwarded-For; or name a
# header that a trusted proxy sets (e.g. X-Real-IP). With neither, REMOTE_ADDR. allauth and django-ratelimit both
# read it through core.net.client_ip, so rate limits and login throttles agree.
VIGIL_TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)
VIGIL_TRUSTED_CLIENT_IP_HEADER = env_str("DJANGO_TRUSTED_CLIENT_IP_HEADER") or None
# An invitation to organise a petition works (and is kept) this many days.
VIGIL_INVITATION_MAX_AGE_DAYS = env_int("VIGIL_INVITATION_MAX_AGE_DAYS", 14)
# Forwarding headers are believed only from these addresses or networks (CIDR), the proxies in front of the site.
VIGIL_TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES", [])
try:
    for _proxy in VIGIL_TRUSTED_PROXIES:
        ipaddress.ip_network(_proxy, strict=False)
except ValueError as _exc:
    raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {_exc}") from _exc
if (VIGIL_TRUSTED_PROXY_COUNT or VIGIL_TRUSTED_CLIENT_IP_HEADER) and not VIGIL_TRUSTED_PROXIES:
    raise ImproperlyConfigured(
        "DJANGO_TRUSTED_PROXY_COUNT and DJANGO_TRUSTED_CLIENT_IP_HEADER need DJANGO_TRUSTED_PROXIES: the addresses of "
        "the proxies whose forwarding headers may be believed (otherwise any client could write them)."
    )
# allauth asks its adapter for the client's address; ours asks core.net.client_ip (the same rules).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
RATELIMIT_IP_META_KEY = "core.net.client_ip"
RATELIMIT_VIEW = "core.views.ratelimited"
RATELIMIT_ENABLE = env_bool("DJANGO_RATELIMIT_ENABLE", True)

# --- Security headers ---------------------------------------------------------------------------------------------
# Only the site itself: no CDN, no font service, no tracker, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # data: only for allauth's TOTP QR code, drawn inline as SVG
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", _https)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", _https)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz answers plain HTTP to the load balancer's probes.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Shared page cache (core.pagecache) ---------------------------------------------------------------------
# Anonymous visitors get public pages from a rendered copy in the cache. Copies out of date by an edit are never
# served; by age, pages with live counts are rebuilt after LIVE_MS, the others after SECONDS, one request rebuilding
# while the rest get the previous copy (kept STALE_SECONDS longer for that). A request that finds the copy out of
# date by an edit waits at most WAIT_MS for the one rebuilding it. A proxy in front may keep pages without a form
# PROXY_SECONDS (at most their own age limit).
VIGIL_PAGE_CACHE = env_bool("VIGIL_PAGE_CACHE", True)
VIGIL_PAGE_CACHE_SECONDS = env_int("VIGIL_PAGE_CACHE_SECONDS", 60)
VIGIL_PAGE_CACHE_LIVE_SECONDS = float(env_int("VIGIL_PAGE_CACHE_LIVE_MS", 1000)) / 1000
VIGIL_PAGE_CACHE_STALE_SECONDS = env_int("VIGIL_PAGE_CACHE_STALE_SECONDS", 300)
VIGIL_PAGE_CACHE_WAIT_SECONDS = float(env_int("VIGIL_PAGE_CACHE_WAIT_MS", 2000)) / 1000
VIGIL_PAGE_CACHE_LOCK_SECONDS = env_int("VIGIL_PAGE_CACHE_LOCK_SECONDS", 10)
VIGIL_PAGE_CACHE_PROXY_SECONDS = env_int("VIGIL_PAGE_CACHE_PROXY_SECONDS", 5)

# --- Comments and moderation -----------------------------------------------------------------------------------
# A comment is hidden from the public, pending review, once this many readers have flagged it.
VIGIL_COMMENTS_FLAG_THRESHOLD = env_int("VIGIL_COMMENTS_FLAG_THRESHOLD", 3)
# A new account's first N comments wait for a moderator's approval (0: none are held).
VIGIL_COMMENTS_HOLD_FIRST = env_int("VIGIL_COMMENTS_HOLD_FIRST", 1)
# The checks every comment passes, in order (comments.services.pipeline), and their settings: an account is trusted
# after this many comments appeared and none removed within the days below; one whose share of removals among its
# last decided comments passes the percentage is checked again; links need this many comments that appeared; the
# same words (of at least this many letters) by one account, or by this many accounts, within the window are held.
VIGIL_COMMENTS_PIPELINE = env_list(
    "VIGIL_COMMENTS_PIPELINE", ["watch_words", "standing", "new_account", "links", "repeats", "hook"]
)
# An outside moderation service asked about every comment that passed the other steps (empty: none); its shared
# secret signs the requests; no answer within the timeout holds the comment.
VIGIL_COMMENTS_HOOK_URL = env_str("VIGIL_COMMENTS_HOOK_URL", "")
VIGIL_COMMENTS_HOOK_SECRET = env_str("VIGIL_COMMENTS_HOOK_SECRET", "")
VIGIL_COMMENTS_HOOK_TIMEOUT_MS = env_int("VIGIL_COMMENTS_HOOK_TIMEOUT_MS", 1500)
if VIGIL_COMMENTS_HOOK_URL and not VIGIL_COMMENTS_HOOK_SECRET:
    raise ImproperlyConfigured("VIGIL_COMMENTS_HOOK_URL needs VIGIL_COMMENTS_HOOK_SECRET to sign its requests.")
VIGIL_COMMENTS_TRUSTED_AFTER = env_int("VIGIL_COMMENTS_TRUSTED_AFTER", 3)
VIGIL_COMMENTS_STANDING_DAYS = env_int("VIGIL_COMMENTS_STANDING_DAYS", 30)
VIGIL_COMMENTS_STANDING_SAMPLE = env_int("VIGIL_COMMENTS_STANDING_SAMPLE", 20)
VIGIL_COMMENTS_REJECTION_RATE = env_int("VIGIL_COMMENTS_REJECTION_PERCENT", 30) / 100
VIGIL_COMMENTS_LINKS_MIN_APPROVED = env_int("VIGIL_COMMENTS_LINKS_MIN_APPROVED", 2)
VIGIL_COMMENTS_REPEAT_WINDOW_MINUTES = env_int("VIGIL_COMMENTS_REPEAT_WINDOW_MINUTES", 60)
VIGIL_COMMENTS_REPEAT_ACCOUNTS = env_int("VIGIL_COMMENTS_REPEAT_ACCOUNTS", 3)
VIGIL_COMMENTS_REPEAT_MIN_CHARS = env_int("VIGIL_COMMENTS_REPEAT_MIN_CHARS", 20)
# Each process looks for a changed list of watched words at most this often (a new word applies within it).
VIGIL_COMMENTS_WATCHLIST_SECONDS = env_int("VIGIL_COMMENTS_WATCHLIST_SECONDS", 2)
VIGIL_COMMENTS_EDIT_WINDOW_SECONDS = env_int("VIGIL_COMMENTS_EDIT_WINDOW_SECONDS", 15 * 60)
VIGIL_COMMENTS_FEATURED_SHOWN = env_int("VIGIL_COMMENTS_FEATURED_SHOWN", 5)  # featured comments above a discussion
VIGIL_COMMENTS_MAX_LENGTH = env_int("VIGIL_COMMENTS_MAX_LENGTH", 5000)
# Replies deeper than this show at this depth, "in reply to NAME"; the storage limit is far deeper.
VIGIL_COMMENTS_DISPLAY_DEPTH = env_int("VIGIL_COMMENTS_DISPLAY_DEPTH", 6)
VIGIL_COMMENTS_MAX_DEPTH = 150
VIGIL_COMMENTS_THREADS_PER_PAGE = env_int("VIGIL_COMMENTS_THREADS_PER_PAGE", 20)
VIGIL_COMMENTS_QUEUE_PAGE_SIZE = env_int("VIGIL_COMMENTS_QUEUE_PAGE_SIZE", 50)
# django-ratelimit rates ("count/period", period s, m, h or d, optionally with a multiplier: "10/10m").
VIGIL_COMMENTS_POST_RATE_USER = env_str("VIGIL_COMMENTS_POST_RATE_USER", "10/10m")
VIGIL_COMMENTS_POST_RATE_IP = env_str("VIGIL_COMMENTS_POST_RATE_IP", "30/10m")
VIGIL_COMMENTS_FLAG_RATE_USER = env_str("VIGIL_COMMENTS_FLAG_RATE_USER", "20/h")
VIGIL_COMMENTS_FLAG_RATE_IP = env_str("VIGIL_COMMENTS_FLAG_RATE_IP", "60/h")

# --- Petitions and signatures -----------------------------------------------------------------------------------
# Signing is rate-limited per client address and per e-mail ("count/period", django-ratelimit). The address limit is
# generous, since a campus or an office signs from one address; fraud review (the dashboard's bursts) does the rest.
# Over a limit the form comes back filled in, with status 429. If Redis is down the limits are skipped and logged.
VIGIL_SIGN_RATE_PER_IP = env_str("VIGIL_SIGN_RATE_PER_IP", "300/h")
VIGIL_SIGN_RATE_PER_EMAIL = env_str("VIGIL_SIGN_RATE_PER_EMAIL", "10/h")

# The API (/api/v1/, api/): calls per token, signatures recorded per token (each signer still confirms by e-mail,
# and the per-e-mail limit above applies too), and the largest body read.
VIGIL_API_RATE_PER_TOKEN = env_str("VIGIL_API_RATE_PER_TOKEN", "1200/m")
VIGIL_API_SIGN_RATE_PER_TOKEN = env_str("VIGIL_API_SIGN_RATE_PER_TOKEN", "36000/h")
VIGIL_API_MAX_BODY_BYTES = env_int("VIGIL_API_MAX_BODY_BYTES", 64 * 1024)
# How long a web process trusts a token it has looked up (a revoked token stops in every process within this).
VIGIL_API_TOKEN_CACHE_SECONDS = env_int("VIGIL_API_TOKEN_CACHE_SECONDS", 2)
# How long the log of API calls (token, method, path, status, time) is kept. With Redis, each call's line goes to a
# list there and beat moves the list into the table every 5 s (api.services.tokens.api_calls_drain).
VIGIL_API_CALL_LOG_DAYS = env_int("VIGIL_API_CALL_LOG_DAYS", 90)
# Webhooks (api/services/webhooks.py). Events (core.Event) are handed to these tasks after they commit; beat runs the
# pump every VIGIL_WEBHOOK_PUMP_SECONDS too. A batch holds at most VIGIL_WEBHOOK_BATCH events; an endpoint that does
# not answer 2xx within VIGIL_WEBHOOK_TIMEOUT_SECONDS waits 5 s, 10 s, 20 s … (at most VIGIL_WEBHOOK_RETRY_MAX_SECONDS)
# and is switched off after VIGIL_WEBHOOK_DISABLE_AFTER failures in a row (about half a day with the defaults).
# Addresses on loopback, private or link-local networks, and plain http, are refused unless
# VIGIL_WEBHOOK_ALLOW_LOCAL (on with DEBUG, for trying a receiver on one's own machine).
VIGIL_EVENT_HANDLERS = ["api.tasks.webhooks_pump_task"]
# Thresholds of confirmed signatures that the count flush finds crossed are handed to these tasks after it commits
# (beat sweeps them every five minutes too): the organisers are told and a milestone update is drafted.
VIGIL_THRESHOLD_HANDLERS = ["petitions.tasks.petition_thresholds_handle_task"]
VIGIL_WEBHOOK_PUMP_SECONDS = float(env_int("VIGIL_WEBHOOK_PUMP_MS", 1000)) / 1000
VIGIL_WEBHOOK_BATCH = env_int("VIGIL_WEBHOOK_BATCH", 100)
VIGIL_WEBHOOK_TIMEOUT_SECONDS = env_int("VIGIL_WEBHOOK_TIMEOUT_SECONDS", 10)
VIGIL_WEBHOOK_RETRY_FIRST_SECONDS = env_int("VIGIL_WEBHOOK_RETRY_FIRST_SECONDS", 5)
VIGIL_WEBHOOK_RETRY_MAX_SECONDS = env_int("VIGIL_WEBHOOK_RETRY_MAX_SECONDS", 3600)
VIGIL_WEBHOOK_DISABLE_AFTER = env_int("VIGIL_WEBHOOK_DISABLE_AFTER", 20)
VIGIL_WEBHOOK_ALLOW_LOCAL = env_bool("VIGIL_WEBHOOK_ALLOW_LOCAL", DEBUG)
VIGIL_WEBHOOK_ENDPOINTS_PER_PETITION = env_int("VIGIL_WEBHOOK_ENDPOINTS_PER_PETITION", 5)
# Delivered events, and their log, are kept this long.
VIGIL_WEBHOOK_LOG_DAYS = env_int("VIGIL_WEBHOOK_LOG_DAYS", 30)
VIGIL_SIGN_RESEND_RATE = env_str("VIGIL_SIGN_RESEND_RATE", "10/h")
# The sign view re-reads a petition's state at most this often per web process (seconds; 0: every time).
VIGIL_SIGN_PETITION_CACHE_SECONDS = float(env_int("VIGIL_SIGN_PETITION_CACHE_MS", 2000)) / 1000
# The same snapshot, shared through the cache for this long: what a process that starts during a database outage signs
# with (petitions.selectors.petition_for_signing).
VIGIL_SIGN_SNAPSHOT_SHARED_SECONDS = env_int("VIGIL_SIGN_SNAPSHOT_SHARED_SECONDS", 7 * 86400)
# Signers who have not confirmed get one reminder this many hours after their last e-mail from the site (0: none).
VIGIL_SIGNATURE_REMINDER_HOURS = env_int("VIGIL_SIGNATURE_REMINDER_HOURS", 24)
# A confirmation link works this long (seconds); notes to a signer ("already signed", reminders) at most this often.
VIGIL_SIGNATURE_CONFIRM_MAX_AGE = env_int("VIGIL_SIGNATURE_CONFIRM_MAX_AGE", 7 * 24 * 3600)
# "Your data" (a copy, or erasure, of what is held under an address): how long the e-mailed erasure link works, and
# how often one client address and one e-mail address may ask.
VIGIL_DATA_ERASE_LINK_MAX_AGE = env_int("VIGIL_DATA_ERASE_LINK_MAX_AGE", 24 * 3600)
VIGIL_DATA_REQUEST_RATE = env_str("VIGIL_DATA_REQUEST_RATE", "5/h")
# A withdrawal link works this long (seconds) from the signing: long, but not for ever (the "Your data" page remains).
VIGIL_SIGNATURE_WITHDRAW_MAX_AGE = env_int("VIGIL_SIGNATURE_WITHDRAW_MAX_AGE", 730 * 24 * 3600)
VIGIL_SIGNATURE_NOTICE_INTERVAL = env_int("VIGIL_SIGNATURE_NOTICE_INTERVAL", 3600)
VIGIL_SIGNATURE_RESEND_INTERVAL = env_int("VIGIL_SIGNATURE_RESEND_INTERVAL", 120)
# Unconfirmed signatures are deleted after this many days; signers are anonymised this many months after closing.
VIGIL_SIGNATURE_PENDING_PURGE_DAYS = env_int("VIGIL_SIGNATURE_PENDING_PURGE_DAYS", 14)
VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS = env_int("VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS", 6)
# Confirmations are folded into the counts by a flush this often (seconds); the public page is cached this long.
VIGIL_SIGNATURE_COUNT_FLUSH_SECONDS = float(env_int("VIGIL_SIGNATURE_COUNT_FLUSH_MS", 2000)) / 1000
VIGIL_PETITION_PAGE_CACHE_SECONDS = env_int("VIGIL_PETITION_PAGE_CACHE_SECONDS", 1)
# The longest update organisers may write (characters of its text, after cleaning), and updates per page of a
# petition's list and feeds.
VIGIL_PETITION_UPDATE_MAX_CHARS = env_int("VIGIL_PETITION_UPDATE_MAX_CHARS", 20_000)
VIGIL_PETITION_UPDATES_PER_PAGE = env_int("VIGIL_PETITION_UPDATES_PER_PAGE", 20)
# E-mailing updates to signers: at most this many mailings per petition in any 7 days; news may be mailed up to
# this many days after the petition closed (the response and the outcome at any time); signers queued per batch
# (one transaction each), at most this many a second; a queueing mailing whose last batch is older than this many
# seconds is queued again.
VIGIL_UPDATE_MAILINGS_PER_WEEK = env_int("VIGIL_UPDATE_MAILINGS_PER_WEEK", 2)
VIGIL_UPDATE_MAILING_DAYS_AFTER_CLOSE = env_int("VIGIL_UPDATE_MAILING_DAYS_AFTER_CLOSE", 30)
VIGIL_UPDATE_MAILING_BATCH = env_int("VIGIL_UPDATE_MAILING_BATCH", 2_000)
VIGIL_UPDATE_MAILING_QUEUE_RATE = env_int("VIGIL_UPDATE_MAILING_QUEUE_RATE", 5_000)
VIGIL_UPDATE_MAILING_STALE_SECONDS = env_int("VIGIL_UPDATE_MAILING_STALE_SECONDS", 120)
# The dashboard flags this many signatures from one hashed address, or one e-mail domain, within one hour.
VIGIL_SIGNATURE_BURST_THRESHOLD = env_int("VIGIL_SIGNATURE_BURST_THRESHOLD", 25)
# Signature rules (signatures/services/rules.py): each process looks this often whether a rule changed, and the
# country limits read the tallies as often. Invalidation jobs set aside this many signatures per transaction; a
# running job whose last batch is older than this many seconds is queued again.
VIGIL_SIGNATURE_RULES_SECONDS = env_int("VIGIL_SIGNATURE_RULES_SECONDS", 2)
# A removed rule naming one address or network has that value erased this many days after its removal.
VIGIL_SIGNATURE_RULE_ERASE_DAYS = env_int("VIGIL_SIGNATURE_RULE_ERASE_DAYS", 90)
VIGIL_INVALIDATION_BATCH = env_int("VIGIL_INVALIDATION_BATCH", 1_000)
VIGIL_INVALIDATION_STALE_SECONDS = env_int("VIGIL_INVALIDATION_STALE_SECONDS", 120)
# Client addresses are stored only as HMAC-SHA256 under this key (rate limits, fraud review).
if DEBUG:
    VIGIL_IP_HASH_KEY = env_str("VIGIL_IP_HASH_KEY") or "dev-only-address-hash-key-4c1d9a7e0b2f"
else:
    VIGIL_IP_HASH_KEY = env_required(
        "VIGIL_IP_HASH_KEY",
        "Client addresses are kept only as a keyed hash; set a long random key "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))').",
    )
# The count flush has a queue of its own, so that a backlog of e-mail never holds the counts back. Workers started
# without -Q consume both queues.
from kombu import Queue  # noqa: E402 (kept inside this block)

CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue("vigil-counts"))
CELERY_TASK_ROUTES = {
    "signatures.tasks.signature_counts_flush_task": {"queue": "vigil-counts"},
    "signatures.tasks.signature_intake_drain_task": {"queue": "vigil-counts"},
}
# The signing intake (signatures.services.intake): with Redis as the cache, the sign form hands signatures to a Redis
# list and a worker writes them BATCH at a time; beat drains it this often, a web process nudges at most once per
# NUDGE seconds, one drain runs at most MAX seconds (then lets the count flush, queued behind it, have the worker) and
# holds its lock for LOCK seconds, renewed before each batch: a drain killed mid-batch holds up the intake at most that
# long (about twice a drain's longest run). Each entry's id is kept RECEIPT_HOURS after it is written, so an entry
# read again after a crash between commit and trim is never written twice.
VIGIL_SIGN_INTAKE = env_bool("VIGIL_SIGN_INTAKE", True)
# The registry of every class of personal data the site holds, with the rule that removes it (config/privacy.py).
VIGIL_PRIVACY_REGISTRY = "config.privacy.REGISTRY"
# /healthz: what each app adds to the report, and when a backlog makes the site "degraded" (core.health).
VIGIL_HEALTH_REPORTS = ["signatures.health.intake_report"]
VIGIL_HEALTH_INTAKE_MAX_AGE_SECONDS = env_int("VIGIL_HEALTH_INTAKE_MAX_AGE_SECONDS", 30)
VIGIL_HEALTH_OUTBOX_MAX_AGE_SECONDS = env_int("VIGIL_HEALTH_OUTBOX_MAX_AGE_SECONDS", 300)
# While the database is down, pages that need it answer 503 with this Retry-After (core.outage).
VIGIL_OUTAGE_RETRY_AFTER_SECONDS = env_int("VIGIL_OUTAGE_RETRY_AFTER_SECONDS", 10)
VIGIL_SIGN_INTAKE_BATCH = env_int("VIGIL_SIGN_INTAKE_BATCH", 500)
VIGIL_SIGN_INTAKE_DRAIN_SECONDS = float(env_int("VIGIL_SIGN_INTAKE_DRAIN_MS", 1000)) / 1000
VIGIL_SIGN_INTAKE_NUDGE_SECONDS = float(env_int("VIGIL_SIGN_INTAKE_NUDGE_MS", 1000)) / 1000
VIGIL_SIGN_INTAKE_DRAIN_MAX_SECONDS = env_int("VIGIL_SIGN_INTAKE_DRAIN_MAX_SECONDS", 2)
VIGIL_SIGN_INTAKE_LOCK_SECONDS = env_int("VIGIL_SIGN_INTAKE_LOCK_SECONDS", 4)
VIGIL_SIGN_INTAKE_RECEIPT_HOURS = env_int("VIGIL_SIGN_INTAKE_RECEIPT_HOURS", 24)
# The intake is used only when its Redis persists (appendonly yes; appendfsync always or everysec), asked every CHECK
# seconds: without persistence, a Redis restart would lose signatures already acknowledged. Turning this off accepts
# that loss.
VIGIL_SIGN_INTAKE_REQUIRE_PERSISTENCE = env_bool("VIGIL_SIGN_INTAKE_REQUIRE_PERSISTENCE", True)
VIGIL_SIGN_INTAKE_PERSISTENCE_CHECK_SECONDS = env_int("VIGIL_SIGN_INTAKE_PERSISTENCE_CHECK_SECONDS", 30)
# Confirmation e-mails are written unrendered in the signing statement and delivered by the outbox pump
# (core.services.outbox.outbound_email_pump): beat runs it this often (seconds), a web process nudges it at most once
# per NUDGE seconds, it claims BATCH rows at a time for CLAIM seconds, and one run stops after MAX seconds (so that the
# intake drain and the count flush, queued behind it on a busy worker, are never held back long).
VIGIL_OUTBOX_PUMP_SECONDS = float(env_int("VIGIL_OUTBOX_PUMP_MS", 1000)) / 1000
VIGIL_OUTBOX_PUMP_NUDGE_SECONDS = float(env_int("VIGIL_OUTBOX_PUMP_NUDGE_MS", 1000)) / 1000
VIGIL_OUTBOX_PUMP_BATCH = env_int("VIGIL_OUTBOX_PUMP_BATCH", 200)
# Sent (or given-up) messages keep their recipients and bodies this many days, then are scrubbed (core.services).
VIGIL_OUTBOX_RETENTION_DAYS = env_int("VIGIL_OUTBOX_RETENTION_DAYS", 30)
# How long a pump's claim on a batch lasts: a pump killed outright holds its unsent rows that long (core.services).
VIGIL_OUTBOX_CLAIM_SECONDS = env_int("VIGIL_OUTBOX_CLAIM_SECONDS", 10)
VIGIL_OUTBOX_PUMP_MAX_SECONDS = env_int("VIGIL_OUTBOX_PUMP_MAX_SECONDS", 2)
# Bulk mailings are sent from a thread with this nice value (0-19, above the workers' VIGIL_WORKER_NICENESS): they
# use spare time and give way to pages, signing and the workers' other jobs. 0 sends them in the pump's own thread.
VIGIL_OUTBOX_BULK_NICE = env_int("VIGIL_OUTBOX_BULK_NICE", 19)
# ... and pause while the machine's CPUs are idle less than this percentage of the time (0 never pauses).
VIGIL_OUTBOX_BULK_MIN_IDLE_PERCENT = env_int("VIGIL_OUTBOX_BULK_MIN_IDLE_PERCENT", 15)
# render_kind of a deferred outbox row → the function that renders it (subject, text, html) at delivery.
VIGIL_OUTBOX_RENDERERS = {
    "signature": "signatures.services.signing.signature_mail_render",
    "update": "petitions.services.mailings.update_mail_render",
}

# --- Deliverables: packets, sign-on letters, compiles, deliveries ---------------------------------------------
# Packet exports and compiled letters are written under VIGIL_PRIVATE_ROOT by Celery tasks limited to
# VIGIL_LONG_TASK_TIME_LIMIT (soft limit 30 s earlier). Each is written under a temporary name and renamed only when
# complete. A worker that dies mid-job leaves the task unacknowledged: Redis hands it to another worker after the
# broker's visibility timeout (VIGIL_BROKER_VISIBILITY_TIMEOUT, by default long limit + 300 s = 20 minutes), and a
# beat sweep re-queues jobs whose heartbeat is older than the long limit + 60 s, whichever comes first.
VIGIL_EXPORT_EXPIRY_DAYS = env_int("VIGIL_EXPORT_EXPIRY_DAYS", 14)
# Copies of packets and letters attached to deliveries, and compiled letter PDFs, are deleted this many days after
# they were made (the delivery log keeps what, when, to whom and the checksum). Must exceed the e-mailed link's life.
VIGIL_DELIVERED_FILE_EXPIRY_DAYS = env_int("VIGIL_DELIVERED_FILE_EXPIRY_DAYS", 90)
# Sign-ons' contact e-mail, signer's name and role, and proof document are erased this many months after the letter
# closes; the logo and proof of sign-ons never confirmed, or rejected, go after this many days.
VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS = env_int("VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS", 6)
VIGIL_SIGNON_UNVERIFIED_UPLOAD_DAYS = env_int("VIGIL_SIGNON_UNVERIFIED_UPLOAD_DAYS", 30)
# The download log keeps each entry's hashed client address this many days (then who, what and when only).
VIGIL_DOWNLOAD_LOG_ADDRESS_DAYS = env_int("VIGIL_DOWNLOAD_LOG_ADDRESS_DAYS", 90)
# How often (seconds) a running job writes its progress (rows done of total) for the page to poll.
VIGIL_EXPORT_PROGRESS_SECONDS = float(env_str("VIGIL_EXPORT_PROGRESS_SECONDS", "1.0"))
# Rows fetched per round trip while drawing a PDF packet.
VIGIL_EXPORT_FETCH_ROWS = env_int("VIGIL_EXPORT_FETCH_ROWS", 5000)
# A delivery attaches files up to this size in total; larger files go as expiring signed links.
VIGIL_DELIVERY_MAX_ATTACHMENT_BYTES = env_int("VIGIL_DELIVERY_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
VIGIL_DELIVERY_LINK_MAX_AGE_DAYS = env_int("VIGIL_DELIVERY_LINK_MAX_AGE_DAYS", 30)
if VIGIL_DELIVERY_LINK_MAX_AGE_DAYS >= VIGIL_DELIVERED_FILE_EXPIRY_DAYS:
    raise ImproperlyConfigured(
        "VIGIL_DELIVERED_FILE_EXPIRY_DAYS must exceed VIGIL_DELIVERY_LINK_MAX_AGE_DAYS, or e-mailed links outlive "
        "the files they point at."
    )
# The "your petition was delivered" update to signers who agreed to hear from the organisers goes in batches.
VIGIL_DELIVERY_UPDATE_BATCH = env_int("VIGIL_DELIVERY_UPDATE_BATCH", 500)
# Shareholders' proof documents: a PDF or an image, at most this size.
VIGIL_PROOF_MAX_BYTES = env_int("VIGIL_PROOF_MAX_BYTES", 5 * 1024 * 1024)
# The decision maker's response, uploaded by the organisers as a PDF: at most this size.
VIGIL_RESPONSE_DOCUMENT_MAX_BYTES = env_int("VIGIL_RESPONSE_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
# The public sign-on form: sign-ons accepted per client address, and the margin above the largest file the form
# accepts before a request is refused (413) without its body being read.
VIGIL_SIGNON_RATE_PER_IP = env_str("VIGIL_SIGNON_RATE_PER_IP", "10/h")
VIGIL_UPLOAD_BODY_MARGIN_BYTES = env_int("VIGIL_UPLOAD_BODY_MARGIN_BYTES", 65536)
# PDFs are drawn by ReportLab with this TrueType font (wide Unicode coverage); ReportLab's own Vera if it is missing.
VIGIL_PDF_FONT = env_str("VIGIL_PDF_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
VIGIL_PDF_FONT_BOLD = env_str("VIGIL_PDF_FONT_BOLD", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
VIGIL_PDF_PAGE_SIZE = env_str("VIGIL_PDF_PAGE_SIZE", "A4")  # or "letter"
VIGIL_SIGNON_PAGE_SIZE = 60  # verified signatories per public page

# --- Periodic tasks (Celery beat) ----------------------------------------------------------------------------------
# Every periodic task, in one table; schedules are in seconds. A frequent task's run expires unstarted if a busy
# worker reaches it too late: the next run, due shortly, does the same work.
CELERY_BEAT_SCHEDULE = {
    # core
    "outbound-email-pump": {
        "task": "core.tasks.outbound_email_pump_task",
        "schedule": VIGIL_OUTBOX_PUMP_SECONDS,
        "options": {"expires": 10},
    },
    "outbound-email-sweep": {"task": "core.tasks.outbound_email_sweep_task", "schedule": 60.0},
    "worker-heartbeat": {"task": "core.tasks.worker_heartbeat_task", "schedule": 30.0},
    # The privacy rules of config/privacy.py that have no task of their own (the outbox scrub, the download log's
    # addresses, the intake's records) run together, hourly; each rule is safe to run any time.
    "privacy-sweep": {"task": "core.tasks.privacy_rules_task", "schedule": 3600.0},
    # signatures
    "signatures-counts-flush": {
        "task": "signatures.tasks.signature_counts_flush_task",
        "schedule": VIGIL_SIGNATURE_COUNT_FLUSH_SECONDS,
        "options": {"expires": 30},
    },
    "signatures-intake-drain": {
        "task": "signatures.tasks.signature_intake_drain_task",
        "schedule": VIGIL_SIGN_INTAKE_DRAIN_SECONDS,
        "options": {"expires": 10},
    },
    "signatures-counts-reconcile": {"task": "signatures.tasks.signature_counts_reconcile_task", "schedule": 3600.0},
    "signatures-pending-purge": {"task": "signatures.tasks.signatures_pending_purge_task", "schedule": 3600.0},
    "signatures-remind-due": {"task": "signatures.tasks.signatures_remind_due_task", "schedule": 600.0},
    # Invalidation jobs whose worker died mid-run, queued again from where they stopped.
    "signatures-invalidations-sweep": {"task": "signatures.tasks.signature_invalidations_sweep_task", "schedule": 60.0},
    # api
    "webhooks-pump": {
        "task": "api.tasks.webhooks_pump_task",
        "schedule": VIGIL_WEBHOOK_PUMP_SECONDS,
        "options": {"expires": 10},
    },
    "api-logs-purge": {"task": "api.tasks.api_logs_purge_task", "schedule": 3600.0},
    "api-calls-drain": {"task": "api.tasks.api_calls_drain_task", "schedule": 5.0, "options": {"expires": 30}},
    # petitions
    "petitions-lifecycle-due": {"task": "petitions.tasks.petitions_lifecycle_due_task", "schedule": 60.0},
    "petitions-thresholds": {"task": "petitions.tasks.petition_thresholds_handle_task", "schedule": 300.0},
    # Mailings whose queueing lost its worker, queued again; and the reports of mailings that have finished.
    "petitions-mailings-sweep": {"task": "petitions.tasks.update_mailings_sweep_task", "schedule": 60.0},
    # Organisers told of a burst of signatures from one address or domain (VIGIL_SIGNATURE_BURST_THRESHOLD an hour).
    "petitions-bursts-alert": {"task": "petitions.tasks.petition_bursts_alert_task", "schedule": 300.0},
    "petitions-anonymise-due": {"task": "petitions.tasks.petitions_anonymise_due_task", "schedule": 6 * 3600.0},
    # deliverables
    "deliverables-expire": {"task": "deliverables.tasks.packet_exports_expire_task", "schedule": 3600.0},
    "deliverables-requeue-stale": {"task": "deliverables.tasks.deliverables_requeue_stale_task", "schedule": 60.0},
    # articles and comments
    "articles-publish-due": {"task": "articles.tasks.articles_publish_due_task", "schedule": 60.0},
    "comments-reconcile-counts": {"task": "comments.tasks.comment_counts_reconcile_task", "schedule": 3600.0},
}

# --- Internationalisation -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Logging: to the console, where the process manager collects it ---------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Link tokens and e-mail addresses never reach a log line (core.redact).
    "filters": {"redact": {"()": "core.redact.RedactFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
