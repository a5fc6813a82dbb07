from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dashboards.tenancy import services
from dashboards.tenancy.models import Membership, Role, Team


def membership(user, tenant) -> Membership:
    return Membership.objects.for_tenant(tenant).get(user=user)


def test_seeding_is_idempotent(world) -> None:
    from dashboards.hosting.models import App
    from dashboards.ops.demo import demo_links, seed_demo

    counts = (Membership.objects.count(), Team.objects.count())
    shared = App.objects.for_tenant(world.globex).get(slug="counter")
    assert shared.access == "link" and demo_links() == [
        ("Counter and greeting of Globex Inc", f"/l/{shared.link_token}/")
    ]
    shared.access = "members"  # a developer stops sharing it: seeding again keeps that
    shared.save()
    seed_demo()
    assert (Membership.objects.count(), Team.objects.count()) == counts
    assert App.objects.get(pk=shared.pk).access == "members" and demo_links() == []


def test_seeding_again_keeps_what_developers_made_of_the_demo_apps(world) -> None:
    """`make run` seeds on every start: a renamed demo app and a release deployed over it stay."""
    from dashboards.events.models import LoggedEvent
    from dashboards.hosting.models import App
    from dashboards.hosting.services import release_activate, release_create
    from dashboards.ops.demo import seed_demo

    counter = App.objects.for_tenant(world.acme).get(slug="counter")
    counter.name, counter.description = "Our counter", "Renamed by a developer"
    counter.save()
    mine = release_create(
        app=counter, files={"main.py": "initial_state = {}\npage = 'mine'\n"}, author=world.adam
    )
    assert mine.is_valid, mine.report
    release_activate(release=mine)
    events = LoggedEvent.objects.count()
    seed_demo()
    counter.refresh_from_db()
    assert (counter.name, counter.description, counter.active_release_id) == (
        "Our counter",
        "Renamed by a developer",
        mine.pk,
    )
    assert LoggedEvent.objects.count() == events  # nothing changed, so nothing to tell anyone


def test_owner_adds_a_member_and_developers_become_staff(world, django_user_model) -> None:
    newcomer = django_user_model.objects.create_user("nina", password="x")
    services.membership_add(tenant=world.acme, user=newcomer, role=Role.DEVELOPER, actor=world.alice)
    newcomer.refresh_from_db()
    assert newcomer.is_staff


@pytest.mark.parametrize("actor", ["adam", "avery", "greta"])
def test_only_owners_of_the_tenant_manage_members(world, django_user_model, actor) -> None:
    newcomer = django_user_model.objects.create_user("nina", password="x")
    with pytest.raises(PermissionDenied):
        services.membership_add(tenant=world.acme, user=newcomer, role=Role.VIEWER, actor=world.users[actor])


def test_a_viewer_in_one_tenant_cannot_manage_it_even_if_owner_elsewhere(world) -> None:
    # alice owns acme but is only a viewer of globex
    with pytest.raises(PermissionDenied):
        services.team_create(tenant=world.globex, name="Alice's team", actor=world.alice)


def test_the_last_owner_can_neither_leave_nor_be_demoted(world) -> None:
    owner = membership(world.alice, world.acme)
    with pytest.raises(ValidationError):
        services.membership_change_role(membership=owner, role=Role.VIEWER, actor=world.alice)
    with pytest.raises(ValidationError):
        services.membership_remove(membership=owner, actor=world.alice)
    services.membership_change_role(
        membership=membership(world.adam, world.acme), role=Role.OWNER, actor=world.alice
    )
    services.membership_change_role(membership=owner, role=Role.VIEWER, actor=world.adam)
    assert membership(world.alice, world.acme).role == Role.VIEWER


def test_demotion_removes_staff_access(world) -> None:
    services.membership_change_role(
        membership=membership(world.adam, world.acme), role=Role.VIEWER, actor=world.alice
    )
    world.adam.refresh_from_db()
    assert not world.adam.is_staff


def test_a_team_only_holds_members_of_its_tenant(world) -> None:
    team = Team.objects.for_tenant(world.acme).get()
    with pytest.raises(ValidationError):
        services.team_set_members(
            team=team, members=[membership(world.greta, world.globex)], actor=world.alice
        )


def test_only_administrators_create_tenants(world) -> None:
    with pytest.raises(PermissionDenied):
        services.tenant_create(slug="initech", name="Initech", actor=world.alice)
    assert services.tenant_create(slug="initech", name="Initech", actor=world.admin).slug == "initech"
