"""The inbox page, the header badge, the admin and the command."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from dashboards.notifications.models import Notification
from dashboards.notifications.services import notification_send_to_team, notification_send_to_users


@pytest.fixture
def as_user(client: Client, world):
    def login(name: str) -> Client:
        client.force_login(world.users[name])
        return client

    return login


def badge(html: str) -> re.Match[str]:
    match = re.search(r'<span id="inbox-badge"[^>]*data-count="(\d+)"([^>]*)>', html)
    assert match, "no badge in the page"
    return match


def test_the_inbox_needs_a_sign_in(client: Client, db) -> None:
    response = client.get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_inbox_lists_ones_own_notifications(as_user, world, analysts) -> None:
    notification_send_to_team(team=analysts, level="error", message="Export <b>failed</b>", link="/t/acme/")
    notification_send_to_users(tenant=world.acme, users=[world.alice], level="info", message="Only alice")
    response = as_user("avery").get("/inbox/")
    html = response.text
    assert response.status_code == 200
    assert html.count('data-testid="notification"') == 1
    assert "Export &lt;b&gt;failed&lt;/b&gt;" in html and "Only alice" not in html
    assert "Acme Corp" in html and 'href="/t/acme/">Open</a>' in html and "Unread" in html
    assert "1 unread notification" in html
    assert badge(html).group(1) == "1" and "hidden" not in badge(html).group(2)
    assert ">just now</time>" in html  # not "0 minutes ago"
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    assert ">3\xa0minutes ago</time>" in as_user("avery").get("/inbox/").text


def test_every_signed_in_page_has_the_badge_the_toasts_and_the_live_socket(as_user, world, analysts) -> None:
    client = as_user("avery")
    html = client.get("/t/acme/").text
    assert badge(html).group(1) == "0" and "hidden" in badge(html).group(2)
    assert 'ws-connect="/ws/live/?tenant=acme&amp;topics=apps&amp;since=' in html  # the home's app cards
    notification_send_to_team(team=analysts, level="info", message="Hello")
    for path in ("/t/acme/", "/t/", "/inbox/", "/t/acme/apps/counter/"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert badge(html).group(1) == "1", path
        for position in ("top-right", "top-left", "bottom-right", "bottom-left"):
            assert html.count(f'id="dashboards-toasts-{position}"') == 1, path
        assert "js/toasts.js" in html, path
    app_page = client.get("/t/acme/apps/counter/").text  # a 200, checked above
    assert "/ws/live/" not in app_page and "js/live.js" not in app_page  # the app tab has its own socket
    assert app_page.count("ws.min.js") == 1


def test_signed_out_pages_have_no_socket(client: Client, db) -> None:
    html = client.get("/accounts/login/").text
    assert "/ws/live/" not in html and "inbox-badge" not in html and "dashboards-toasts" not in html


def test_mark_as_read_and_mark_all_as_read(as_user, world, analysts) -> None:
    first, *_ = notification_send_to_team(team=analysts, level="info", message="One")
    notification_send_to_team(team=analysts, level="info", message="Two")
    client = as_user(first.user.username)
    assert client.get(f"/inbox/{first.pk}/read/").status_code == 405  # a write is a POST
    response = client.post(f"/inbox/{first.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert badge(client.get("/inbox/").text).group(1) == "1"
    client.post("/inbox/read-all/")
    html = client.get("/inbox/").text
    assert badge(html).group(1) == "0" and "No unread notifications" in html
    assert Notification.objects.filter(read_at__isnull=True).count() == 2  # the other member's two


def test_another_users_notification_cannot_be_marked(as_user, world, analysts) -> None:
    rows = notification_send_to_team(team=analysts, level="info", message="One")
    alices = next(row for row in rows if row.user == world.alice)
    as_user("avery").post(f"/inbox/{alices.pk}/read/")
    alices.refresh_from_db()
    assert alices.read_at is None


def test_the_forms_need_the_csrf_token(world, analysts) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.avery)
    notification_send_to_team(team=analysts, level="info", message="One")
    assert client.post("/inbox/read-all/").status_code == 403
    assert 'name="csrfmiddlewaretoken"' in client.get("/inbox/").text


@pytest.mark.parametrize(
    ("user", "visible"), [("alice", {"acme"}), ("adam", {"acme"}), ("admin", {"acme", "globex"})]
)
def test_the_admin_shows_only_ones_tenants_notifications(as_user, analysts, operations, user, visible):
    notification_send_to_team(team=analysts, level="info", message="Acme news")
    notification_send_to_team(team=operations, level="info", message="Globex news")
    html = as_user(user).get("/admin/notifications/notification/").text
    shown = {slug for slug, text in (("acme", "Acme news"), ("globex", "Globex news")) if text in html}
    assert shown == visible
    assert as_user(user).get("/admin/notifications/notification/add/").status_code == 403


def test_viewers_have_no_notification_admin(as_user) -> None:
    assert as_user("avery").get("/admin/notifications/notification/").status_code == 302


def test_the_command_notifies_a_team(world, capsys) -> None:
    call_command("notify_team", "--tenant", "acme", "--team", "Analysts", "--level", "success",
                 "--message", "Done", "--duration", "0")  # fmt: skip
    assert "Notified 2 member(s) of Analysts in Acme Corp." in capsys.readouterr().out
    assert Notification.objects.for_tenant(world.acme).count() == 2
    with pytest.raises(CommandError, match="No team"):
        call_command("notify_team", "--tenant", "acme", "--team", "Operations", "--message", "x")
    with pytest.raises(CommandError, match="path on this site"):
        call_command("notify_team", "--tenant", "acme", "--team", "Analysts", "--message", "x", "--link", "x")


def test_marking_an_id_past_the_databases_integers_is_a_no_op_not_a_server_error(as_user) -> None:
    response = as_user("avery").post("/inbox/99999999999999999999999/read/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
