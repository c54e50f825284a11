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
    purpose, since their names are chosen by the code and a job run again rewrites its file.

    `media_domain` is where browsers fetch media from: a host, with a path if needed ("cdn.example.org",
    "example.org/files/bucket"), served over https, or the same with its scheme ("http://localhost:8000/objects/b")."""
    common = {"bucket_name": bucket, "endpoint_url": endpoint_url, "region_name": region,
              "access_key": access_key, "secret_key": secret_key}  # fmt: skip
    media_url = {"custom_domain": media_domain}
    if media_domain and "://" in media_domain:
        scheme, rest = media_domain.split("://", 1)
        if scheme not in ("http", "https"):
            raise ImproperlyConfigured(
                f"VIGIL_S3_MEDIA_DOMAIN must be a host or an http(s) address; it is {media_domain!r}."
            )
        media_url = {"custom_domain": rest.rstrip("/"), "url_protocol": f"{scheme}:"}
    backend = "storages.backends.s3.S3Storage"
    return {
        "default": {"BACKEND": backend, "OPTIONS": {**common, "location": "media", "file_overwrite": False,
                                                    "querystring_auth": False, **media_url}},
        "private": {"BACKEND": backend, "OPTIONS": {**common, "location": "private", "file_overwrite": True,
                                                    "default_acl": "private"}},
    }  # fmt: skip
