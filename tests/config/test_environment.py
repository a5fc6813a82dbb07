"""Configuration comes from the environment; a bad value names its variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards.config.environment import (
    CHANNEL_LAYER_CONNECT_TIMEOUT_SECONDS,
    ConfigurationError,
    read_environment,
    redis_settings,
)
from tests.support import REPO_ROOT

PRODUCTION = {
    "SECRET_KEY": "k3y-for-tests-only-9f2c71e0b6a54d88a1c3e7f0d2b49a6c5e8f1a2b3c4d",
    "ALLOWED_HOSTS": "dash.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://dash.example.com",
    "DATABASE_URL": "postgres://app:pw@db.internal:5432/dashboards",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


def test_production_values_are_read(tmp_path: Path) -> None:
    config = read_environment({**PRODUCTION, "VAR_DIR": str(tmp_path)})
    assert config.debug is False
    assert config.https is True
    assert config.hsts_seconds > 0
    assert config.allowed_hosts == ("dash.example.com",)
    assert config.database["ENGINE"] == "django.db.backends.postgresql"
    assert config.database["NAME"] == "dashboards"
    assert config.database["CONN_MAX_AGE"] == 0  # closed after each request; db_call keeps its own
    assert config.redis_is_embedded is False
    assert config.tabs_per_user == 50
    raised = read_environment({**PRODUCTION, "VAR_DIR": str(tmp_path), "TABS_PER_USER": "500"})
    assert raised.tabs_per_user == 500
    embedded = {**PRODUCTION, "VAR_DIR": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": "",
                "ALLOW_EMBEDDED_SERVICES": "true"}  # fmt: skip
    assert read_environment(embedded).redis_is_embedded


def test_development_defaults_are_embedded_and_generate_a_secret(tmp_path: Path) -> None:
    config = read_environment({"DEBUG": "true", "VAR_DIR": str(tmp_path)})
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(config.database["NAME"]).parent == tmp_path
    assert config.redis_is_embedded and config.redis_url == f"unix://{tmp_path}/redis/redis.sock?db=0"
    assert config.allowed_hosts == ("localhost", "127.0.0.1", "[::1]")
    assert config.https is False
    secret_file = tmp_path / "secret_key"
    assert secret_file.read_text().strip() == config.secret_key
    assert read_environment({"DEBUG": "true", "VAR_DIR": str(tmp_path)}).secret_key == config.secret_key


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "a.example.com,*"}, "ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mysql2://nowhere"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://db.internal:5432"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://app@db.internal:5432/dashboards?conn_max_age=300"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://cache:port/0"}, "REDIS_URL"),
        ({"REDIS_URL": "redis:///0"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://cache:6379/zero"}, "REDIS_URL"),
        ({"CSRF_TRUSTED_ORIGINS": "dash.example.com"}, "CSRF_TRUSTED_ORIGINS"),
        ({"HTTPS": "sometimes"}, "HTTPS"),
        ({"HSTS_SECONDS": "a year"}, "HSTS_SECONDS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"JOBS_PER_TENANT": "0"}, "JOBS_PER_TENANT"),
        ({"EVENT_TASKS_PER_TENANT": "0"}, "EVENT_TASKS_PER_TENANT"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),  # the embedded defaults are for DEBUG, or asked for
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"TABS_PER_USER": "0"}, "TABS_PER_USER"),
        ({"TABS_PER_USER": "many"}, "TABS_PER_USER"),
    ],
)
def test_a_bad_value_names_its_variable(changes: dict[str, str], variable: str, tmp_path: Path) -> None:
    environ = {**PRODUCTION, "VAR_DIR": str(tmp_path), **changes}
    with pytest.raises(ConfigurationError) as caught:
        read_environment(environ)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")


@pytest.mark.parametrize("url", ["redis://cache.internal:6379/0", "unix:///srv/redis/redis.sock?db=0"])
def test_the_channel_layer_reads_redis_without_a_socket_timeout(url: str) -> None:
    """channels-redis blocks 5 s in BZPOPMIN: redis-py 8's default 5 s read timeout killed the
    waiting consumer, and a longer one made cancelled receives hang on Python 3.11 (see
    channel_layer_host). The connection attempt stays bounded."""
    from channels_redis.core import RedisChannelLayer

    settings = redis_settings(url)
    layer = RedisChannelLayer(**settings["CHANNEL_LAYERS"]["default"]["CONFIG"])
    connection_kwargs = layer.create_pool(0).connection_kwargs
    assert connection_kwargs["socket_timeout"] is None
    assert connection_kwargs["socket_connect_timeout"] == CHANNEL_LAYER_CONNECT_TIMEOUT_SECONDS
    assert settings["RQ_QUEUES"]["default"]["URL"] == url  # the other clients keep redis-py's defaults


def test_debug_never_allows_a_wildcard_host(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ALLOWED_HOSTS"):
        read_environment({"DEBUG": "true", "ALLOWED_HOSTS": "*", "VAR_DIR": str(tmp_path)})


def test_start_up_reports_a_bad_variable_without_a_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), "DEBUG": "true", "DATABASE_URL": "oracle://x/y"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Configuration error: DATABASE_URL: unsupported scheme 'oracle'" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_start_up_without_a_secret_names_it(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), **PRODUCTION, "SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Configuration error: SECRET_KEY: required when DEBUG is off" in result.stderr


def test_deployment_checklist_passes_with_production_variables(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), **PRODUCTION}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("value", "variable"),
    [
        ("abc", "EVENT_LOG_RETENTION_DAYS"),
        ("0", "EVENT_LOG_RETENTION_DAYS"),
        ("x", "EVENT_SUBSCRIBER_TIME_LIMIT_SECONDS"),
        ("nan", "EVENT_SUBSCRIBER_TIME_LIMIT_SECONDS"),
        ("0", "EVENT_SUBSCRIBER_TIME_LIMIT_SECONDS"),
    ],
)
def test_a_bad_event_knob_stops_the_start_naming_it(value: str, variable: str) -> None:
    """Read in events/limits.py, where their bounds live: the same message as the rest, not a traceback."""
    environment = {**os.environ, variable: value, "DEBUG": "true"}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO_ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"Configuration error: {variable}: ")
