"""Reads the platform's configuration from environment variables, once, into one typed object.

Kept free of Django imports so that a malformed value can be reported (naming the variable)
before Django starts, and so the rules can be tested as a plain function.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from dashboards.runtime.limits import TABS_PER_USER

T = TypeVar("T")
BASE_DIR = Path(__file__).resolve().parents[2]

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
DEBUG_DEFAULT_HOSTS = ("localhost", "127.0.0.1", "[::1]")
DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")
REDIS_SCHEMES = ("redis", "rediss", "unix")
HSTS_DEFAULT_SECONDS = 31_536_000
# Jobs cross Redis as JSON, never pickle: with pickle, whoever can write to Redis runs code on workers.
RQ_SERIALIZER = "rq.serializers.JSONSerializer"
# The channel layer's Redis connections have no read timeout (redis-py 8 defaults it to 5 s, which
# channels-redis's 5 s blocking wait for messages races; see channel_layer_host), but time out a
# connection attempt (redis-py would copy the missing read timeout into it), as redis-py 8 does.
CHANNEL_LAYER_CONNECT_TIMEOUT_SECONDS = 5
DEFAULT_JOBS_PER_TENANT = 4  # running or queued in RQ at once; the rest wait (dashboards/jobs/limits.py)
DEFAULT_EVENT_TASKS_PER_TENANT = 2  # on the events queue at once; the rest wait (events/fair_share.py)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigurationError(ImproperlyConfigured):
    """A missing or malformed environment variable; the message starts with its name."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True)
class PlatformConfig:
    debug: bool
    secret_key: str
    allowed_hosts: tuple[str, ...]
    csrf_trusted_origins: tuple[str, ...]
    database: dict[str, Any]
    database_url: str
    redis_url: str
    redis_is_embedded: bool
    var_dir: Path
    static_root: Path
    https: bool
    hsts_seconds: int
    log_level: str
    jobs_per_tenant: int
    event_tasks_per_tenant: int
    tabs_per_user: int


def read_environment(environ_: Mapping[str, str]) -> PlatformConfig:
    """Build the configuration from a mapping such as ``os.environ``; raise on the first bad value."""
    var_dir = Path(environ_.get("VAR_DIR") or BASE_DIR / "var").resolve()
    debug = _read_bool(environ_, "DEBUG", default=False)

    allowed_hosts: Sequence[str] = _read_list(environ_, "ALLOWED_HOSTS")
    if "*" in allowed_hosts:
        raise ConfigurationError(
            "ALLOWED_HOSTS", "'*' is refused: name the hosts (the WebSocket origin check uses this list)"
        )
    if not allowed_hosts:
        if not debug:
            raise ConfigurationError(
                "ALLOWED_HOSTS", "required when DEBUG is off (comma-separated host names)"
            )
        allowed_hosts = DEBUG_DEFAULT_HOSTS

    csrf_trusted_origins = _read_list(environ_, "CSRF_TRUSTED_ORIGINS")
    for origin in csrf_trusted_origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                "CSRF_TRUSTED_ORIGINS", f"{origin!r} is not an origin like https://dash.example.com"
            )

    # Without DEBUG, the embedded defaults are refused unless asked for: a production container
    # missing a variable would otherwise run on a SQLite file inside itself (lost with it) and a
    # Redis socket that nothing starts, and say so only through failing health checks.
    embedded_allowed = debug or _read_bool(environ_, "ALLOW_EMBEDDED_SERVICES", default=False)
    for variable, example in (("DATABASE_URL", "postgres://user:pass@host:5432/name"),
                              ("REDIS_URL", "redis://host:6379/0")):  # fmt: skip
        if not embedded_allowed and not environ_.get(variable):
            raise ConfigurationError(
                variable,
                f"required when DEBUG is off ({example}); ALLOW_EMBEDDED_SERVICES=true runs on SQLite "
                "and the embedded Redis instead, on one machine",
            )
    database_url = environ_.get("DATABASE_URL") or f"sqlite:///{var_dir / 'db.sqlite3'}"
    database = _parse_database_url(database_url)

    redis_url = environ_.get("REDIS_URL") or ""
    redis_is_embedded = not redis_url
    if redis_is_embedded:
        redis_url = embedded_redis_url(var_dir)
    _check_redis_url(redis_url)

    https = _read_bool(environ_, "HTTPS", default=not debug)
    hsts_seconds = _read_int(environ_, "HSTS_SECONDS", default=HSTS_DEFAULT_SECONDS if https else 0)
    log_level = (environ_.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigurationError("LOG_LEVEL", f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    jobs_per_tenant = _read_int(environ_, "JOBS_PER_TENANT", default=DEFAULT_JOBS_PER_TENANT)
    if jobs_per_tenant < 1:
        raise ConfigurationError("JOBS_PER_TENANT", "must be at least 1")
    event_tasks_per_tenant = _read_int(
        environ_, "EVENT_TASKS_PER_TENANT", default=DEFAULT_EVENT_TASKS_PER_TENANT
    )
    if event_tasks_per_tenant < 1:
        raise ConfigurationError("EVENT_TASKS_PER_TENANT", "must be at least 1")
    tabs_per_user = _read_int(environ_, "TABS_PER_USER", default=TABS_PER_USER)  # runtime/limits.py
    if tabs_per_user < 1:
        raise ConfigurationError("TABS_PER_USER", "must be at least 1")

    return PlatformConfig(
        debug=debug,
        secret_key=_read_secret_key(environ_, debug=debug, var_dir=var_dir),
        allowed_hosts=tuple(allowed_hosts),
        csrf_trusted_origins=tuple(csrf_trusted_origins),
        database=database,
        database_url=database_url,
        redis_url=redis_url,
        redis_is_embedded=redis_is_embedded,
        var_dir=var_dir,
        static_root=Path(environ_.get("STATIC_ROOT") or BASE_DIR / "staticfiles").resolve(),
        https=https,
        hsts_seconds=hsts_seconds,
        log_level=log_level,
        jobs_per_tenant=jobs_per_tenant,
        event_tasks_per_tenant=event_tasks_per_tenant,
        tabs_per_user=tabs_per_user,
    )


def redis_settings(url: str) -> dict[str, Any]:
    """Every Django setting derived from the one Redis URL (the tests re-apply it per worker)."""
    return {
        "REDIS_URL": url,
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [channel_layer_host(url)], "prefix": "dashboards"},
            }
        },
        "RQ_QUEUES": {
            "default": {"URL": url, "SERIALIZER": RQ_SERIALIZER, "DEFAULT_TIMEOUT": 600},
            # Event processors and emitter subscribers: short tasks, each tenant within its share.
            "events": {"URL": url, "SERIALIZER": RQ_SERIALIZER, "DEFAULT_TIMEOUT": 60},
        },
    }


def channel_layer_host(url: str) -> dict[str, Any]:
    """The channel layer's Redis host: no socket read timeout, a bounded connection attempt.

    channels-redis waits for messages in ``BZPOPMIN`` with a 5 s timeout (``brpop_timeout``,
    a class attribute, not a setting); redis-py 8 reads with a 5 s socket timeout by default, so
    the read could time out first and kill the consumer (1011 for its tab, about every 6 s per
    process). A read timeout *longer* than 5 s is no cure on Python 3.11: redis-py sends each
    command through ``asyncio.wait_for`` when a read timeout is set, and 3.11's ``wait_for`` drops
    a cancellation that arrives just as the send completes; the cancelled receive then loops in
    ``BZPOPMIN`` forever (the hung test teardowns of commit d72a406). Without a read timeout
    nothing is sent through ``wait_for``. A dead TCP peer is still found: redis-py 8 turns TCP
    keepalive on (30 s idle, then 3 probes 5 s apart). Options in the URL's query string
    (``?socket_timeout=...``) override these, so REDIS_URL must not carry a socket_timeout.
    """
    return {
        "address": url,
        "socket_timeout": None,
        "socket_connect_timeout": CHANNEL_LAYER_CONNECT_TIMEOUT_SECONDS,
    }


def embedded_redis_url(var_dir: Path) -> str:
    """The socket the embedded Redis listens on: a file, so it never competes for a TCP port."""
    return f"unix://{var_dir / 'redis' / 'redis.sock'}?db=0"


def _read_bool(environ_: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ_.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigurationError(name, f"{raw!r} is not a boolean (use true or false)")


def _read_int(environ_: Mapping[str, str], name: str, *, default: int) -> int:
    value = _read_number(environ_, name, int, "a whole number")
    if value is None:
        return default
    if value < 0:
        raise ConfigurationError(name, "must not be negative")
    return value


def _read_number(environ_: Mapping[str, str], name: str, parse: Callable[[str], T], what: str) -> T | None:
    """The variable parsed, None when unset or blank; a value that does not parse names itself."""
    raw = environ_.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return parse(raw)
    except ValueError:
        raise ConfigurationError(name, f"{raw!r} is not {what}") from None


def whole_number_variable(name: str, *, default: int, minimum: int) -> int:
    """A whole-number knob read where its bound lives (``events/limits.py``), checked as the rest."""
    value = _read_int(os.environ, name, default=default)
    if value < minimum:
        raise ConfigurationError(name, f"must be at least {minimum}")
    return value


def seconds_variable(name: str, *, default: float, minimum: float) -> float:
    """A duration in seconds read where its bound lives, checked as the rest."""
    value = _read_number(os.environ, name, float, "a number of seconds")
    if value is None:
        return default
    if not value >= minimum or value == float("inf"):  # NaN and inf too
        raise ConfigurationError(name, f"must be a number of seconds, at least {minimum:g}")
    return value


def _read_list(environ_: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in (environ_.get(name) or "").split(",") if item.strip()]


def _read_secret_key(environ_: Mapping[str, str], *, debug: bool, var_dir: Path) -> str:
    key = environ_.get("SECRET_KEY") or ""
    if key:
        if not debug and len(key) < 50:
            raise ConfigurationError("SECRET_KEY", "too short for production (use at least 50 characters)")
        return key
    if not debug:
        raise ConfigurationError("SECRET_KEY", "required when DEBUG is off")
    return _development_secret_key(var_dir)


def _development_secret_key(var_dir: Path) -> str:
    """Generated once into var/ so that sessions survive restarts and nothing secret is committed."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _parse_database_url(url: str) -> dict[str, Any]:
    scheme = urlsplit(url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ConfigurationError(
            "DATABASE_URL", f"unsupported scheme {scheme!r} (use postgres://... or sqlite:///path)"
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a malformed URL
        raise ConfigurationError("DATABASE_URL", f"cannot be parsed ({exc})") from None
    # CONN_MAX_AGE stays 0: only the threads that live as long as the process keep connections,
    # the HTTP pool's (config/http.py) and the db-call pool's (runtime/db.py), which age and check
    # them themselves. Elsewhere a kept connection could outlive its thread (Django's ASGI handler
    # starts one per request) and stay open until garbage collection.
    if config.get("CONN_MAX_AGE", 0) != 0:
        raise ConfigurationError(
            "DATABASE_URL", "conn_max_age is refused (under ASGI it leaks a connection per request)"
        )
    config["CONN_MAX_AGE"] = 0
    if scheme == "sqlite":
        if not config.get("NAME") or config["NAME"] == ":memory:":
            raise ConfigurationError("DATABASE_URL", "SQLite needs a file path: sqlite:////abs/path.sqlite3")
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # Several processes (Daphne, workers) share the file: wait for locks rather than fail, and
        # use the write-ahead log, so readers never wait for a writer and a commit needs no fsync
        # (a power cut may lose the last commits, never corrupt the file).
        config.setdefault("OPTIONS", {}).update(
            {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            }
        )
    elif not config.get("NAME"):
        raise ConfigurationError("DATABASE_URL", "names no database (postgres://user@host:5432/NAME)")
    return config


def _check_redis_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigurationError(
            "REDIS_URL", f"unsupported scheme {parts.scheme!r} (use redis://host:6379/0 or unix:///path)"
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigurationError("REDIS_URL", "names no host (redis://host:6379/0)")
    if parts.scheme != "unix":
        try:
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise ConfigurationError("REDIS_URL", "has a malformed port") from None
        db = parts.path.strip("/")
        if db and not (db.isascii() and db.isdigit()):
            raise ConfigurationError("REDIS_URL", f"database {db!r} is not a number")
