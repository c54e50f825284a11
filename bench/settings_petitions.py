"""Settings for the petitions load benchmark: production settings plus a trivial view's URL (never in production)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_petitions"
