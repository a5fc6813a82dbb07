"""Reads: one's own notifications, only in the tenants one still belongs to."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from dashboards.notifications.models import Notification
from dashboards.notifications.selectors import (
    notification_inbox,
    notification_list_for_user,
    notification_unread_count,
)
from dashboards.notifications.services import notification_mark_all_read, notification_send_to_users
from dashboards.tenancy import services as tenancy
from dashboards.tenancy.models import Membership


def send(tenant, *users, message: str = "Hello") -> None:
    notification_send_to_users(tenant=tenant, users=users, level="info", message=message)


def test_a_user_sees_only_their_own(world) -> None:
    send(world.acme, world.alice, world.avery, message="both")
    send(world.acme, world.avery, message="avery only")
    assert [n.message for n in notification_inbox(user=world.alice)] == ["both"]
    assert [n.message for n in notification_inbox(user=world.avery)] == ["avery only", "both"]  # newest first
    assert notification_unread_count(user=world.avery) == 2
    assert notification_unread_count(user=AnonymousUser()) == 0
    assert not notification_list_for_user(user=AnonymousUser()).exists()


def test_leaving_a_tenant_hides_its_notifications(world) -> None:
    send(world.acme, world.alice, message="acme")
    send(world.globex, world.alice, message="globex")
    assert notification_unread_count(user=world.alice) == 2
    membership = Membership.objects.for_tenant(world.globex).get(user=world.alice)
    tenancy.membership_remove(membership=membership, actor=tenancy.SYSTEM)
    assert [n.message for n in notification_inbox(user=world.alice)] == ["acme"]
    assert notification_unread_count(user=world.alice) == 1
    assert notification_mark_all_read(user=world.alice) == 1  # the hidden one is left alone


def test_the_scoping_path_filters_notifications(world) -> None:
    send(world.acme, world.alice)
    send(world.globex, world.greta)
    assert set(Notification.objects.for_tenant(world.acme).values_list("tenant_id", flat=True)) == {
        world.acme.pk
    }
    assert set(Notification.objects.for_tenant(world.globex).values_list("user__username", flat=True)) == {
        "greta"
    }


def test_read_ones_are_not_counted(world) -> None:
    send(world.acme, world.avery)
    send(world.acme, world.avery)
    notification_mark_all_read(user=world.avery)
    send(world.acme, world.avery)
    assert notification_unread_count(user=world.avery) == 1
    assert len(notification_inbox(user=world.avery)) == 3
