"""Reading the environment (the one place where the process environment is consulted), and shaping what it gives
into settings that take more than one value (s3_storages)."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; it is {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number; it is {value!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_required(name: str, why: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"{name} is not set. {why}")
    return value


def s3_storages(*, bucket: str, endpoint_url=None, region=None, access_key=None, secret_key=None, media_domain=None):
    """The "default" (media) and "private" entries of STORAGES for an S3-compatible bucket (django-storages): media
    under "media/", public and never overwritten; private files under "private/", never public, and overwritten on
    purpose, since their names are chosen by the code and a job run again rewrites its file."""
    common = {"bucket_name": bucket, "endpoint_url": endpoint_url, "region_name": region,
              "access_key": access_key, "secret_key": secret_key}  # fmt: skip
    backend = "storages.backends.s3.S3Storage"
    return {
        "default": {"BACKEND": backend, "OPTIONS": {**common, "location": "media", "file_overwrite": False,
                                                    "querystring_auth": False, "custom_domain": media_domain}},
        "private": {"BACKEND": backend, "OPTIONS": {**common, "location": "private", "file_overwrite": True,
                                                    "default_acl": "private"}},
    }  # fmt: skip
