"""Production settings plus the benchmarks' baseline view (never part of the real site's URLs)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
