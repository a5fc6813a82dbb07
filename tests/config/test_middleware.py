"""Query strings no page reads: more parameters than Django takes are a 400 naming the limit, with
DEBUG on as off, and a warning rather than a server error in the log."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

TOO_MANY = "&".join(f"p{n}=1" for n in range(1001))  # DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/admin/hosting/apprelease/", "/no-such-page/"])
def test_too_many_query_parameters_is_a_400_naming_the_limit(
    client: Client, settings, caplog: pytest.LogCaptureFixture, debug: bool, path: str
) -> None:
    settings.DEBUG = debug
    with caplog.at_level(logging.INFO):
        response = client.get(f"{path}?{TOO_MANY}")
    assert response.status_code == 400
    assert "more than the 1000 query parameters" in response.text
    assert [(r.name, r.levelname) for r in caplog.records if r.levelno >= logging.WARNING] == [
        ("django.request", "WARNING")  # Django's "Bad Request: <path>"; no error, no traceback
    ]
    assert any("more query parameters" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_a_signed_in_page_refuses_it_too(client: Client, world) -> None:
    client.force_login(world.alice)
    response = client.get(f"/?{TOO_MANY}")
    assert response.status_code == 400 and "query parameters" in response.text


@pytest.mark.django_db
def test_the_limit_itself_is_still_taken(client: Client, settings) -> None:
    just_enough = "&".join(f"p{n}=1" for n in range(1000))
    assert client.get(f"/accounts/login/?{just_enough}").status_code == 200
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = None  # Django's "no limit"
    assert client.get(f"/accounts/login/?{TOO_MANY}").status_code == 200
