"""The intake only on a Redis that persists: asked of real Redis servers (throwaway ones, so the machine's Redis is
never reconfigured), with and without an append-only file."""

import logging

import pytest
from django.test import override_settings

from signatures.ratelimits import redis_client
from signatures.services import intake
from tests.throwaway import ThrowawayRedis, ensure_installed


def _cache_on(server: ThrowawayRedis) -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url,
                        "KEY_PREFIX": "vigil"}}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_answers(monkeypatch, settings):
    ensure_installed()
    monkeypatch.setattr(intake, "_persistence", {})
    settings.VIGIL_SIGN_INTAKE = True
    settings.VIGIL_SIGN_INTAKE_REQUIRE_PERSISTENCE = True


@pytest.mark.parametrize(
    ("appendonly", "appendfsync", "durable", "said"),
    [
        (False, "everysec", False, "off (appendonly no)"),
        (True, "no", False, "appendonly yes, appendfsync no"),
        (True, "everysec", True, "appendonly yes, appendfsync everysec"),
        (True, "always", True, "appendonly yes, appendfsync always"),
    ],
)
def test_the_intake_runs_only_on_a_redis_that_persists(tmp_path, caplog, appendonly, appendfsync, durable, said):
    server = ThrowawayRedis(tmp_path, appendonly=appendonly, appendfsync=appendfsync)
    with server, override_settings(CACHES=_cache_on(server)), caplog.at_level(logging.ERROR):
        found = intake.redis_persistence(redis_client())
        assert (found.durable, found.describe()) == (durable, said)
        assert intake.intake_enabled() is durable
        intake.intake_enabled()  # asked again: the answer is kept, the error not repeated
    errors = [record for record in caplog.records if "intake is OFF" in record.getMessage()]
    assert len(errors) == (0 if durable else 1)


def test_persistence_turned_off_at_run_time_is_noticed_at_the_next_check(tmp_path, settings, caplog):
    settings.VIGIL_SIGN_INTAKE_PERSISTENCE_CHECK_SECONDS = 0
    with ThrowawayRedis(tmp_path, appendonly=True) as server, override_settings(CACHES=_cache_on(server)):
        assert intake.intake_enabled()
        redis_client().config_set("appendonly", "no")
        with caplog.at_level(logging.ERROR):
            assert not intake.intake_enabled()
        assert "intake is OFF" in caplog.text
        redis_client().config_set("appendonly", "yes")
        with caplog.at_level(logging.WARNING):
            assert intake.intake_enabled()
        assert "intake is on again" in caplog.text


def test_a_web_process_says_at_start_when_its_redis_does_not_persist(tmp_path, caplog):
    server = ThrowawayRedis(tmp_path, appendonly=False)
    with server, override_settings(CACHES=_cache_on(server)), caplog.at_level(logging.INFO):
        intake.intake_startup_check()
    assert "The signing intake is OFF" in caplog.text and "off (appendonly no)" in caplog.text


def test_the_start_check_never_stops_a_start_when_redis_is_away(tmp_path, caplog):
    server = ThrowawayRedis(tmp_path)  # never started: nothing answers on its port
    with override_settings(CACHES=_cache_on(server)), caplog.at_level(logging.INFO):
        intake.intake_startup_check()
    assert "intake is OFF" not in caplog.text
