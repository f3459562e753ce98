"""Settings: the master key is generated for `entryway dev` only, and a bad one is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from entryway.config import ConfigError, load_settings, new_master_key_text


def test_dev_generates_a_master_key_once(tmp_path: Path) -> None:
    env = {"ENTRYWAY_DATA_DIR": str(tmp_path / "data")}
    first = load_settings(generate_master_key=True, env=env)
    second = load_settings(env=env)
    assert first.master_key == second.master_key
    assert (tmp_path / "data" / "master.key").stat().st_mode & 0o777 == 0o600
    assert first.database_url == f"sqlite:///{tmp_path / 'data' / 'entryway.db'}"


def test_serve_without_a_master_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ENTRYWAY_MASTER_KEY"):
        load_settings(env={"ENTRYWAY_DATA_DIR": str(tmp_path)})


def test_short_master_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="32 bytes"):
        load_settings(env={"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": "c2hvcnQ"})


def test_explicit_settings(tmp_path: Path) -> None:
    key = new_master_key_text()
    settings = load_settings(
        env={
            "ENTRYWAY_DATA_DIR": str(tmp_path),
            "ENTRYWAY_MASTER_KEY": key,
            "ENTRYWAY_DATABASE_URL": "postgresql://u@h/db",
            "ENTRYWAY_PUBLIC_URL": "https://sso.example.com/",
            "ENTRYWAY_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
        }
    )
    assert settings.public_url == "https://sso.example.com"
    assert settings.trusted_proxies == ("10.0.0.1", "10.0.0.2")
    assert not settings.is_sqlite


def test_auth_log_retention_is_read_and_checked(tmp_path: Path) -> None:

    base = {"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": "A" * 43}
    assert load_settings(env=base).auth_log_retention_days == 90
    assert load_settings(env={**base, "ENTRYWAY_AUTH_LOG_RETENTION_DAYS": "30"}).auth_log_retention_days == 30
    for bad in ("0", "-1", "thirty", "4000"):
        with pytest.raises(ConfigError, match="ENTRYWAY_AUTH_LOG_RETENTION_DAYS"):
            load_settings(env={**base, "ENTRYWAY_AUTH_LOG_RETENTION_DAYS": bad})


def test_the_master_key_file_is_remembered_for_the_checklist(tmp_path: Path) -> None:

    generated = load_settings(env={"ENTRYWAY_DATA_DIR": str(tmp_path)}, generate_master_key=True)
    assert generated.master_key_file == tmp_path / "master.key"
    given = load_settings(env={"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": "A" * 43})
    assert given.master_key_file is None


def test_job_intervals_are_read_and_checked(tmp_path: Path) -> None:
    base = {"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": new_master_key_text()}
    settings = load_settings(env=base)
    assert settings.scheduler and settings.job_seconds["login_state_purge"] == 300
    tuned = load_settings(
        env={**base, "ENTRYWAY_JOB_LOGIN_STATE_PURGE_SECONDS": "60", "ENTRYWAY_JOB_CERTIFICATE_SCAN_SECONDS": "0"}
    )
    assert tuned.job_seconds["login_state_purge"] == 60 and tuned.job_seconds["certificate_scan"] == 0
    assert not load_settings(env={**base, "ENTRYWAY_SCHEDULER": "0"}).scheduler
    with pytest.raises(ConfigError, match="ENTRYWAY_JOB_LOGIN_STATE_PURGE_SECONDS"):
        load_settings(env={**base, "ENTRYWAY_JOB_LOGN_STATE_PURGE_SECONDS": "60"})  # a typo names no job
    with pytest.raises(ConfigError, match="at least 1 second"):
        load_settings(env={**base, "ENTRYWAY_JOB_AUTH_LOG_PURGE_SECONDS": "0.5"})
    with pytest.raises(ConfigError, match="must be a number"):
        load_settings(env={**base, "ENTRYWAY_JOB_AUTH_LOG_PURGE_SECONDS": "hourly"})


def test_login_steps_run_in_the_thread_pool_unless_in_place_is_asked_for(tmp_path: Path) -> None:
    base = {"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": new_master_key_text()}
    assert load_settings(env=base).login_steps_in_place is False
    for on in ("1", "true", "Yes", " on "):
        assert load_settings(env={**base, "ENTRYWAY_LOGIN_STEPS_IN_PLACE": on}).login_steps_in_place is True
    for off in ("0", "false", "no", "off", ""):
        assert load_settings(env={**base, "ENTRYWAY_LOGIN_STEPS_IN_PLACE": off}).login_steps_in_place is False
    with pytest.raises(ConfigError, match=r"ENTRYWAY_LOGIN_STEPS_IN_PLACE must be 1 or 0.*'place'"):
        load_settings(env={**base, "ENTRYWAY_LOGIN_STEPS_IN_PLACE": "place"})  # not silently read as off


def test_a_redis_url_redis_cannot_read_is_refused_at_start_up(tmp_path: Path) -> None:
    base = {"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": "A" * 43}
    assert load_settings(env=base).redis_url is None
    for good in ("redis://127.0.0.1:6379/0", "rediss://cache.internal:6380", "unix:///run/redis.sock"):
        assert load_settings(env={**base, "ENTRYWAY_REDIS_URL": good}).redis_url == good
    for bad in ("localhost:6379", "http://127.0.0.1:6379", "redis://127.0.0.1:port"):
        with pytest.raises(ConfigError, match="ENTRYWAY_REDIS_URL"):
            load_settings(env={**base, "ENTRYWAY_REDIS_URL": bad})
    # A password with an unescaped "/" reads as a port: the refusal must not repeat any of it.
    with pytest.raises(ConfigError) as refused:
        load_settings(env={**base, "ENTRYWAY_REDIS_URL": "redis://default:Tr0ub4dor/3xyz@redis.internal:6379/0"})
    assert "Tr0ub4dor" not in str(refused.value) and refused.value.__cause__ is None
    assert "percent-encoded" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("ENTRYWAY_CLOCK_SKEW_SECONDS", "2m"),
        ("ENTRYWAY_CLOCK_SKEW_SECONDS", "-5"),
        ("ENTRYWAY_CLOCK_SKEW_SECONDS", "1.5"),
        ("ENTRYWAY_METADATA_REFRESH_SECONDS", "daily"),
        ("ENTRYWAY_UPSTREAM_ID_TOKEN_TTL_SECONDS", "0"),
        ("ENTRYWAY_CONFIG_CACHE_SECONDS", "fast"),
    ],
)
def test_a_mistyped_number_of_seconds_is_refused_by_name(tmp_path: Path, name: str, bad: str) -> None:
    base = {"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": "A" * 43}
    with pytest.raises(ConfigError, match=name):
        load_settings(env={**base, name: bad})


def test_seconds_settings_keep_their_defaults_and_read_whole_numbers(tmp_path: Path) -> None:
    base = {"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": "A" * 43}
    settings = load_settings(env=base)
    assert (settings.clock_skew_seconds, settings.metadata_refresh_seconds) == (120, 86400)
    assert (settings.upstream_id_token_ttl_seconds, settings.config_cache_seconds) == (43200, 1.0)
    custom = load_settings(env={**base, "ENTRYWAY_CLOCK_SKEW_SECONDS": "30", "ENTRYWAY_METADATA_REFRESH_SECONDS": "0"})
    assert (custom.clock_skew_seconds, custom.metadata_refresh_seconds) == (30, 0)
    assert isinstance(custom.clock_skew_seconds, int)


def test_printing_the_settings_shows_no_password_or_key(tmp_path: Path) -> None:
    key = new_master_key_text()
    settings = load_settings(
        env={
            "ENTRYWAY_DATA_DIR": str(tmp_path),
            "ENTRYWAY_MASTER_KEY": key,
            "ENTRYWAY_PREVIOUS_MASTER_KEYS": new_master_key_text(),
            "ENTRYWAY_DATABASE_URL": "postgresql://entryway:db-password@db.internal/entryway",
            "ENTRYWAY_REDIS_URL": "redis://:redis-password@cache.internal:6379/0",
        }
    )
    shown = repr(settings)
    assert "public_url=" in shown  # the rest is still there to debug with
    for secret in ("db-password", "redis-password", repr(settings.master_key), repr(settings.previous_master_keys)):
        assert secret not in shown
