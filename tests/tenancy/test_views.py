"""Pages: sign in and out, the tenant list and switcher, app cards, and 404 for other tenants."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboards.ops.demo import DEMO_PASSWORD
from dashboards.tenancy import services
from dashboards.tenancy.models import Tenant


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, world) -> None:
    response = client.get("/t/acme/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/t/acme/")


def test_sign_in_and_out(client: Client, world) -> None:
    response = client.post("/accounts/login/", {"username": "avery", "password": DEMO_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/t/acme/"  # avery's only tenant
    assert "Acme Corp" in response.text
    response = client.post("/accounts/logout/", follow=True)
    assert "Sign in" in response.text
    assert client.get("/t/acme/").status_code == 302


def test_wrong_password_is_a_clear_error(client: Client, world) -> None:
    response = client.post("/accounts/login/", {"username": "avery", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.text


def test_a_member_of_two_tenants_chooses_and_switches(client: Client, world) -> None:
    client.force_login(world.alice)
    listing = client.get("/")
    assert listing.status_code == 200
    assert "Acme Corp" in listing.text and "Globex Inc" in listing.text
    assert "Counter and greeting" in client.get("/t/globex/").text
    assert client.get("/").headers["Location"] == "/t/globex/"  # back to the tenant used last
    acme = client.get("/t/acme/")
    assert acme.text.count('class="card app-card"') == 4  # counter, sales, reports, planner
    assert 'href="/t/globex/"' in acme.text  # the switcher offers the other tenant


def test_app_cards_and_empty_state(client: Client, world) -> None:
    tenant = services.tenant_create(slug="initech", name="Initech", actor=services.SYSTEM)
    services.membership_add(tenant=tenant, user=world.avery, role="viewer", actor=services.SYSTEM)
    client.force_login(world.avery)
    response = client.get("/t/initech/")
    assert 'data-testid="no-apps"' in response.text
    assert "has no apps yet" in response.text


def without_csrf_tokens(html: str) -> str:
    """And without the time the page was rendered at (its live socket's since=, in seconds): two
    requests straddling a second differed there."""
    html = re.sub(r"since=\d+", "since=", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


@pytest.mark.parametrize("path", ["/t/{slug}/", "/t/{slug}/people/"])
def test_another_tenants_pages_answer_exactly_like_a_missing_one(client: Client, world, path: str) -> None:
    client.force_login(world.avery)  # acme only
    other = client.get(path.format(slug="globex"))
    missing = client.get(path.format(slug="no-such-tenant"))
    assert other.status_code == missing.status_code == 404
    assert without_csrf_tokens(other.text) == without_csrf_tokens(missing.text)
    assert b"Globex" not in other.content


def test_people_page_shows_members_and_teams_of_the_tenant_only(client: Client, world) -> None:
    client.force_login(world.avery)
    text = client.get("/t/acme/people/").text
    assert "Analysts" in text and "alice" in text
    assert "greta" not in text and "Operations" not in text
    assert "Manage members" not in text  # viewers don't manage
    client.force_login(world.alice)
    assert "Manage members" in client.get("/t/acme/people/").text


def test_superuser_sees_every_tenant(client: Client, world) -> None:
    client.force_login(world.admin)
    listing = client.get("/t/").text
    assert all(t.name in listing for t in Tenant.objects.all())
