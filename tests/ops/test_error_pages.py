"""A refused request says which limit it broke: a bare "Bad Request" leaves nothing to fix."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_a_form_larger_than_the_server_takes_gets_a_page_saying_so(client: Client, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # a source pasted into the admin, past it
    response = client.post("/accounts/login/", {"username": "x" * (3 * 1024 * 1024), "password": "y"})
    assert response.status_code == 400
    assert "larger than the 2.0 MB of form fields" in response.text
    assert "uploaded as a file" in response.text


@pytest.mark.django_db
def test_too_many_fields_gets_a_page_saying_so(client: Client, settings) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.post("/accounts/login/", {f"f{n}": "1" for n in range(20)})
    assert response.status_code == 400 and "more than the 10 form fields" in response.text
