"""The admin: staff see and edit only their own tenant's rows; list, change, add and choices."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboards.hosting.models import App
from dashboards.tenancy.models import Membership, Role, Team, Tenant


def admin_ids(response, model: str) -> set[int]:
    """Primary keys linked from a changelist."""
    return {int(pk) for pk in re.findall(rf"/admin/\w+/{model}/(\d+)/change/", response.text)}


def option_values(response, field: str) -> set[str]:
    select = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', response.text, re.S)
    assert select, f"no select named {field}"
    return {v for v in re.findall(r'<option value="([^"]*)"', select.group(1)) if v}


@pytest.fixture
def as_user(client: Client, world):
    def login(name: str) -> Client:
        client.force_login(world.users[name])
        return client

    return login


def test_viewers_have_no_admin(as_user) -> None:
    response = as_user("avery").get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("user", ["alice", "adam"])
@pytest.mark.parametrize(
    ("model", "path"), [(App, "hosting/app"), (Membership, "tenancy/membership"), (Team, "tenancy/team")]
)
def test_changelists_show_only_own_tenant(as_user, world, user: str, model, path: str) -> None:
    # alice is also a *viewer* of globex: that must not open globex's admin to her
    response = as_user(user).get(f"/admin/{path}/")
    assert response.status_code == 200
    own = set(model.objects.for_tenant(world.acme).values_list("pk", flat=True))
    assert admin_ids(response, path.split("/")[1]) == own


@pytest.mark.parametrize("path", ["hosting/app", "tenancy/membership", "tenancy/team", "tenancy/tenant"])
def test_no_admin_page_names_another_tenant(as_user, world, path: str) -> None:
    client = as_user("adam")  # developer of acme only
    for page in (f"/admin/{path}/", "/admin/", f"/admin/{path}/add/"):
        response = client.get(page)
        assert "Globex" not in response.text, page


def test_tenant_filter_narrows_the_changelist(as_user, world) -> None:
    response = as_user("admin").get(f"/admin/tenancy/membership/?tenant={world.globex.pk}")
    assert admin_ids(response, "membership") == set(
        Membership.objects.for_tenant(world.globex).values_list("pk", flat=True)
    )


def test_tenant_changelist_shows_only_own_tenant(as_user, world) -> None:
    response = as_user("alice").get("/admin/tenancy/tenant/")
    assert admin_ids(response, "tenant") == {world.acme.pk}


@pytest.mark.parametrize(
    ("model", "path"), [(App, "hosting/app"), (Membership, "tenancy/membership"), (Team, "tenancy/team")]
)
def test_other_tenants_objects_cannot_be_opened_changed_or_deleted(as_user, world, model, path: str) -> None:
    client = as_user("alice")
    foreign = model.objects.for_tenant(world.globex).first()
    for action in ("change", "delete"):
        response = client.get(f"/admin/{path}/{foreign.pk}/{action}/")
        assert response.status_code == 302  # the admin's "doesn't exist" redirect
        assert client.get(response["Location"]).status_code == 200
    client.post(f"/admin/{path}/{foreign.pk}/delete/", {"post": "yes"})
    assert model.objects.filter(pk=foreign.pk).exists()
    client.post(
        f"/admin/{path}/", {"action": "delete_selected", "_selected_action": [foreign.pk], "post": "yes"}
    )
    assert model.objects.filter(pk=foreign.pk).exists()


def test_an_owner_renames_their_tenant_and_only_a_superuser_changes_its_slug(as_user, world) -> None:
    """The owner's page of their tenant was a 500: its slug is read-only for them, and the slug's
    prepopulation from the name asked the form for a field it did not have."""
    owner = as_user("alice")
    url = f"/admin/tenancy/tenant/{world.acme.pk}/change/"
    page = owner.get(url)
    assert page.status_code == 200
    assert 'name="slug"' not in page.text and "acme" in page.text  # shown, not editable
    response = owner.post(url, {"name": "Acme Holdings", "slug": "taken-over"})
    assert response.status_code == 302
    world.acme.refresh_from_db()
    assert (world.acme.name, world.acme.slug) == ("Acme Holdings", "acme")
    superuser = as_user("admin").get(url)
    assert superuser.status_code == 200 and 'name="slug"' in superuser.text


def test_other_tenant_cannot_be_opened(as_user, world) -> None:
    response = as_user("alice").get(f"/admin/tenancy/tenant/{world.globex.pk}/change/")
    assert response.status_code == 302


def test_add_forms_offer_only_own_tenant(as_user, world) -> None:
    client = as_user("alice")
    for path in ("hosting/app", "tenancy/membership", "tenancy/team"):
        assert option_values(client.get(f"/admin/{path}/add/"), "tenant") == {str(world.acme.pk)}
    members = option_values(client.get("/admin/tenancy/team/add/"), "members")
    assert members == {
        str(pk) for pk in Membership.objects.for_tenant(world.acme).values_list("pk", flat=True)
    }


def test_adding_into_another_tenant_is_refused(as_user, world) -> None:
    client = as_user("adam")
    fields = {"slug": "x", "name": "X", "access": "members", "handler_timeout_seconds": 10}
    response = client.post("/admin/hosting/app/add/", {"tenant": world.globex.pk, **fields})
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert not App.objects.filter(slug="x").exists()
    response = client.post("/admin/hosting/app/add/", {"tenant": world.acme.pk, **fields})
    assert response.status_code == 302
    assert App.objects.for_tenant(world.acme).filter(slug="x").exists()


def test_team_members_from_another_tenant_are_refused(as_user, world) -> None:
    client = as_user("alice")
    foreign_member = Membership.objects.for_tenant(world.globex).get(user=world.greta)
    response = client.post(
        "/admin/tenancy/team/add/", {"tenant": world.acme.pk, "name": "Mixed", "members": [foreign_member.pk]}
    )
    assert response.status_code == 200
    assert not Team.objects.filter(name="Mixed").exists()


def test_developers_see_but_do_not_manage_members(as_user, world) -> None:
    client = as_user("adam")
    assert client.get("/admin/tenancy/membership/").status_code == 200
    assert client.get("/admin/tenancy/membership/add/").status_code == 403
    own = Membership.objects.for_tenant(world.acme).get(user=world.avery)
    client.post(f"/admin/tenancy/membership/{own.pk}/change/", {"role": Role.OWNER})
    own.refresh_from_db()
    assert own.role == Role.VIEWER


def test_owner_adds_a_new_person_by_username(as_user, world, django_user_model) -> None:
    client = as_user("alice")
    response = client.post(
        "/admin/tenancy/membership/add/",
        {
            "tenant": world.acme.pk,
            "username": "nina",
            "email": "nina@example.com",
            "password": "s3cret-pass",
            "role": "developer",
        },
    )
    assert response.status_code == 302, response.text
    nina = django_user_model.objects.get(username="nina")
    assert nina.check_password("s3cret-pass") and nina.is_staff
    assert Membership.objects.for_tenant(world.acme).filter(user=nina, role=Role.DEVELOPER).exists()


def test_owner_cannot_demote_the_last_owner_in_the_admin(as_user, world) -> None:
    client = as_user("alice")
    own = Membership.objects.for_tenant(world.acme).get(user=world.alice)
    response = client.post(f"/admin/tenancy/membership/{own.pk}/change/", {"role": Role.VIEWER})
    assert response.status_code == 200 and "at least one owner" in response.text
    assert client.get(f"/admin/tenancy/membership/{own.pk}/delete/").status_code == 403


def test_superuser_sees_everything(as_user, world) -> None:
    client = as_user("admin")
    assert admin_ids(client.get("/admin/tenancy/tenant/"), "tenant") == set(
        Tenant.objects.values_list("pk", flat=True)
    )
    assert admin_ids(client.get("/admin/hosting/app/"), "app") == set(
        App.objects.values_list("pk", flat=True)
    )


def test_an_owner_deletes_an_app_with_its_releases_and_a_superuser_a_tenant(as_user, world) -> None:
    """Releases cannot be deleted one by one; with their app or tenant they go (they blocked both)."""
    from dashboards.hosting.models import App, AppRelease
    from dashboards.tenancy.models import Tenant

    counter = App.objects.for_tenant(world.acme).get(slug="counter")
    assert AppRelease.objects.filter(app=counter).exists()
    owner = as_user("alice")
    page = owner.get(f"/admin/hosting/app/{counter.pk}/delete/")
    assert page.status_code == 200 and "Cannot delete" not in page.text
    assert owner.post(f"/admin/hosting/app/{counter.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not App.objects.filter(pk=counter.pk).exists()
    assert not AppRelease.objects.filter(app_id=counter.pk).exists()
    assert owner.get(f"/admin/tenancy/tenant/{world.acme.pk}/delete/").status_code == 403  # superusers only

    superuser = as_user("admin")
    assert (
        superuser.post(f"/admin/tenancy/tenant/{world.globex.pk}/delete/", {"post": "yes"}).status_code == 302
    )
    assert not Tenant.objects.filter(pk=world.globex.pk).exists()


def test_owners_find_members_by_username_not_by_email(as_user, world) -> None:
    owner = as_user("alice")
    assert "avery" in owner.get("/admin/tenancy/membership/?q=avery").text
    email = world.avery.email
    assert email, "the demo user has an address to look for"
    assert f">{world.avery.username}<" not in owner.get(f"/admin/tenancy/membership/?q={email}").text


def test_nobody_deletes_event_log_rows_one_by_one(as_user, world) -> None:
    from dashboards.events.models import LoggedEvent

    event = LoggedEvent.objects.filter(tenant=world.acme).first()
    assert event is not None
    for name in ("alice", "admin"):
        assert as_user(name).get(f"/admin/events/loggedevent/{event.pk}/delete/").status_code == 403
