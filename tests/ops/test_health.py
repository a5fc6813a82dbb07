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


@pytest.fixture
def deployment_hosts(settings) -> None:
    """What `make check-deploy` wants: the public host name only, DEBUG off, the HTTPS redirect on."""
    settings.ALLOWED_HOSTS = ["dash.example.com"]
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
@pytest.mark.usefixtures("deployment_hosts")
@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:8190",  # make run's supervisor (and the image's HEALTHCHECK) ask their own port
        "[::1]:8000",  # HOST=::1
        "10.0.3.7",  # a load balancer probing the machine by its address
        "10.0.3.7:8000",
    ],
)
def test_a_probe_by_address_is_answered_whatever_allowed_hosts_says(redis_client, host: str) -> None:
    response = Client().get("/healthz", HTTP_HOST=host)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.usefixtures("deployment_hosts")
def test_a_probe_by_address_still_learns_that_redis_is_down(settings) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = Client().get("/healthz", HTTP_HOST="127.0.0.1:8190")
    assert response.status_code == 503
    assert Client().post("/healthz", HTTP_HOST="127.0.0.1:8190").status_code == 405


@pytest.mark.django_db
@pytest.mark.usefixtures("deployment_hosts")
@pytest.mark.parametrize(
    "path", ["/", "/healthz/", "/healthz/more", "/healthzz", "/admin/", "/accounts/login/"]
)
def test_every_other_address_still_refuses_a_host_not_allowed(path: str) -> None:
    assert Client().get(path, HTTP_HOST="127.0.0.1:8190").status_code == 400
    assert Client().get(path, HTTP_HOST="dash.example.com").status_code != 400
