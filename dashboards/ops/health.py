"""Health of the platform's backing services, as plain functions a view or a script can call."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

CHECK_TIMEOUT_SECONDS = 2.0
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str = "ok"  # the error's type only: /healthz is public, the log has the message


def _failed(name: str, error: Exception) -> CheckResult:
    logger.warning("health check %s failed: %s: %s", name, type(error).__name__, error)
    return CheckResult(ok=False, detail=type(error).__name__)


def check_database(connection: BaseDatabaseWrapper | None = None) -> CheckResult:
    connection = connection or connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "not answering"
        return _failed("database", error)
    return CheckResult(ok=True)


def check_redis(url: str) -> CheckResult:
    client = redis.Redis.from_url(
        url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except Exception as error:
        return _failed("redis", error)
    finally:
        client.close()
    return CheckResult(ok=True)
