"""Writes: a row for every member of the team and nobody else, checked inputs, marking read."""

from __future__ import annotations

import pytest

from dashboards.notifications.models import MESSAGE_MAX_LENGTH, Notification
from dashboards.notifications.services import (
    notification_mark_all_read,
    notification_mark_read,
    notification_send_to_team,
    notification_send_to_teams,
    notification_send_to_users,
)
from dashboards.tenancy import services as tenancy
from dashboards.tenancy.models import Membership, Team


def recipients(rows: list[Notification]) -> set[str]:
    return {row.user.username for row in rows}


def test_every_member_of_the_team_gets_a_row_and_nobody_else(world, analysts) -> None:
    rows = notification_send_to_team(
        team=analysts, level="success", message="Import finished", link="/t/acme/",
        subject_type="job", subject_id=12,
    )  # fmt: skip
    assert recipients(rows) == {"alice", "avery"}
    stored = Notification.objects.for_tenant(world.acme)
    assert set(stored.values_list("user__username", flat=True)) == {"alice", "avery"}
    row = stored.get(user=world.alice)
    assert (row.level, row.message, row.link, row.subject_type, row.subject_id) == (
        "success", "Import finished", "/t/acme/", "job", 12
    )  # fmt: skip
    assert row.read_at is None
    assert not Notification.objects.for_tenant(world.globex).exists()  # alice's Globex side too


def test_other_tenants_get_nothing_even_a_member_of_both(world, operations) -> None:
    rows = notification_send_to_team(team=operations, level="error", message="Export failed")
    assert recipients(rows) == {"greta", "gabe", "gwen"}  # alice views Globex but is not in the team
    assert not Notification.objects.filter(user__username__in=["alice", "adam", "avery"]).exists()


def test_a_person_in_two_teams_gets_one_notification(world, analysts) -> None:
    alice = Membership.objects.for_tenant(world.acme).get(user=world.alice)
    adam = Membership.objects.for_tenant(world.acme).get(user=world.adam)
    leads = tenancy.team_create(tenant=world.acme, name="Leads", members=[alice, adam], actor=tenancy.SYSTEM)
    rows = notification_send_to_teams(teams=[analysts, leads], level="info", message="Hello")
    assert sorted(row.user.username for row in rows) == ["adam", "alice", "avery"]


def test_teams_of_two_tenants_are_refused(analysts, operations) -> None:
    with pytest.raises(ValueError, match="one tenant"):
        notification_send_to_teams(teams=[analysts, operations], level="info", message="Hello")


def test_an_empty_team_sends_nothing(world, django_capture_on_commit_callbacks) -> None:
    empty = Team.objects.create(tenant=world.acme, name="Empty")
    with django_capture_on_commit_callbacks() as pushes:
        assert notification_send_to_team(team=empty, level="info", message="Hello") == []
    assert pushes == []


def test_users_outside_the_tenant_are_skipped(world) -> None:
    rows = notification_send_to_users(
        tenant=world.acme, users=[world.adam, world.gwen, world.adam], level="warning", message="Careful"
    )
    assert recipients(rows) == {"adam"}


def test_the_toast_is_pushed_only_after_commit(world, analysts, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False) as pushes:
        rows = notification_send_to_team(team=analysts, level="info", message="Hello")
    toasts = [p for p in pushes if "notification_send_to_users" in p.__qualname__]
    assert len(toasts) == 1  # one push for the whole team, run by the commit
    assert len(pushes) == 1 + len(rows)  # and an event per notification, delivered by the commit too


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"level": "fatal"}, "Unknown level"),
        ({"position": "middle"}, "Unknown position"),
        ({"duration": -1}, "duration"),
        ({"duration": "5"}, "duration"),
        ({"link": "https://evil.example/"}, "path on this site"),
        ({"link": "//evil.example/"}, "path on this site"),
        ({"link": "/\\evil.example/"}, "path on this site"),
        ({"link": "/\t/evil.example/"}, "path on this site"),  # browsers drop the tab: //evil.example
        ({"subject_type": "x" * 31}, "short name"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(analysts, arguments, error) -> None:
    values = {"level": "info", "message": "Hello", **arguments}
    with pytest.raises(ValueError, match=error):
        notification_send_to_team(team=analysts, **values)
    assert not Notification.objects.exists()


def test_a_long_message_is_shortened(analysts) -> None:
    rows = notification_send_to_team(team=analysts, level="info", message="x" * 2000)
    assert len(rows[0].message) == MESSAGE_MAX_LENGTH and rows[0].message.endswith("…")


def test_what_no_store_can_hold_is_shown_as_a_replacement_character(analysts) -> None:
    """A lone surrogate (or a NUL, which PostgreSQL refuses) undid the handler that sent it."""
    rows = notification_send_to_team(team=analysts, level="info", message="lone \ud800 and \x00 gone")
    assert {row.message for row in Notification.objects.filter(pk__in=[r.pk for r in rows])} == {
        "lone \ufffd and \ufffd gone"
    }


def test_marking_read_touches_only_ones_own_notifications(world, analysts) -> None:
    rows = notification_send_to_team(team=analysts, level="info", message="Hello")
    mine = next(row for row in rows if row.user == world.avery)
    theirs = next(row for row in rows if row.user == world.alice)
    assert notification_mark_read(user=world.avery, notification_ids=[mine.pk, theirs.pk]) == 1
    assert notification_mark_read(user=world.avery, notification_ids=[mine.pk]) == 0  # already read
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


def test_mark_all_read_of_one_tenant_or_all(world, analysts, operations) -> None:
    notification_send_to_team(team=analysts, level="info", message="Acme")
    notification_send_to_users(tenant=world.globex, users=[world.alice], level="info", message="Globex")
    assert notification_mark_all_read(user=world.alice, tenant=world.globex) == 1
    assert Notification.objects.filter(user=world.alice, read_at__isnull=True).count() == 1
    assert notification_mark_all_read(user=world.alice) == 1
    assert not Notification.objects.filter(user=world.alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=world.avery, read_at__isnull=True).count() == 1


def test_leaving_a_tenant_leaves_its_unread_notifications_read(world, analysts) -> None:
    """Coming back months later must not light the badge with old news."""
    from dashboards.notifications.selectors import notification_unread_count

    notification_send_to_team(team=analysts, level="info", message="Old news")
    membership = Membership.objects.get(tenant=world.acme, user=world.avery)
    before = notification_unread_count(user=world.avery)
    assert before >= 1
    tenancy.membership_remove(membership=membership, actor=tenancy.SYSTEM)
    tenancy.membership_add(tenant=world.acme, user=world.avery, role="viewer", actor=tenancy.SYSTEM)
    assert notification_unread_count(user=world.avery) == 0
    assert Notification.objects.filter(user=world.avery, message="Old news").exists()  # kept, read
