"""/healthz answers 200 when the database and Redis answer, 503 naming the one that does not."""

from __future__ import annotations

import pytest
from django.db.utils import ConnectionHandler
from django.test import Client

from dashboards.ops.health import check_database
from tests.support import free_port


@pytest.mark.django_db
def test_healthy(client: Client, redis_client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True, "detail": "ok"}, "redis": {"ok": True, "detail": "ok"}},
    }
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.django_db
def test_redis_down_is_503_naming_redis(client: Client, settings) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # a real, closed port
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"] == {"ok": False, "detail": "ConnectionError"}
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db  # lets this test open connections; the one it opens is to a closed port
def test_database_down_is_reported() -> None:
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "nothing",
                "HOST": "127.0.0.1",
                "PORT": str(free_port()),
                "OPTIONS": {"connect_timeout": 2},
            }
        }
    )
    result = check_database(handler["default"])
    assert result.ok is False
    assert result.detail == "OperationalError"


@pytest.mark.django_db
def test_database_down_is_503_naming_the_database(client: Client, monkeypatch) -> None:
    from dashboards.ops import views
    from dashboards.ops.health import CheckResult

    # The database connection of the test itself cannot be broken without breaking the test run:
    # the real failure is shown above; here only the view's answer to a failed check is.
    monkeypatch.setattr(views, "check_database", lambda: CheckResult(ok=False, detail="OperationalError"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "OperationalError"}


def test_healthz_is_get_only(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
