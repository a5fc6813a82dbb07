"""The live socket of platform pages: who may open it, toasts, topics, closing."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async

from dashboards.runtime.broadcast import broadcast
from dashboards.runtime.groups import login_group
from dashboards.runtime.protocol import CLOSE_FORBIDDEN, CLOSE_NOT_SIGNED_IN
from tests.live.conftest import connect_live, emit_probe
from tests.runtime.conftest import open_socket, signed_in_cookie


async def send_to_analysts(**values) -> list:
    from dashboards.notifications.services import notification_send_to_team
    from dashboards.tenancy.models import Team

    def send() -> list:
        team = Team.objects.get(tenant__slug="acme", name="Analysts")
        return notification_send_to_team(team=team, **{"level": "success", "message": "Job done", **values})

    return await sync_to_async(send)()


async def test_anonymous_pages_are_closed_with_4401(live_world) -> None:
    socket = await connect_live()
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": CLOSE_NOT_SIGNED_IN}


async def test_team_members_get_the_toast_and_the_badge_on_every_page(live_world) -> None:
    home = await connect_live(live_world.avery, "tenant=acme&topics=")
    inbox = await connect_live(live_world.alice)  # the inbox: no tenant
    app_tab = await open_socket(live_world.avery)  # an app page: the tab's own socket
    outsider = await connect_live(live_world.greta, "tenant=globex")
    colleague = await connect_live(live_world.adam, "tenant=acme")  # in Acme, not in the team
    await send_to_analysts(link="/t/acme/", duration=0)
    for socket, count in ((home, 1), (inbox, 1), (app_tab.socket, 1)):
        frame = await socket.receive_from(timeout=2)
        assert 'class="toast toast-success" role="status" data-duration="0"' in frame
        assert "Job done" in frame and '<a href="/t/acme/">Open</a>' in frame
        assert '<span id="inbox-badge"' in frame and f'data-count="{count}" hx-swap-oob="true"' in frame
    assert await outsider.receive_nothing(timeout=0.3)
    assert await colleague.receive_nothing(timeout=0.1)
    assert await home.receive_nothing(timeout=0.1)  # at most once
    for socket in (home, inbox, app_tab.socket, outsider, colleague):
        await socket.disconnect()


async def test_nothing_is_pushed_when_the_transaction_rolls_back(live_world) -> None:
    from django.db import transaction

    from dashboards.notifications.models import Notification
    from dashboards.notifications.services import notification_send_to_team
    from dashboards.tenancy.models import Team

    page = await connect_live(live_world.avery)

    def send_then_fail() -> None:
        team = Team.objects.get(tenant__slug="acme", name="Analysts")
        try:
            with transaction.atomic():
                notification_send_to_team(team=team, level="error", message="never")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    await sync_to_async(send_then_fail)()
    assert await page.receive_nothing(timeout=0.3)
    assert not await Notification.objects.filter(message="never").aexists()
    await page.disconnect()


async def test_marking_read_updates_the_badge_of_open_pages(live_world) -> None:
    from dashboards.notifications.services import notification_mark_all_read

    await send_to_analysts()
    page = await connect_live(live_world.avery)
    await sync_to_async(notification_mark_all_read)(user=live_world.avery)
    frame = await page.receive_from(timeout=2)
    assert 'data-count="0" hx-swap-oob="true" hidden' in frame and "toast" not in frame
    await page.disconnect()


async def test_events_reach_subscribed_pages_of_the_tenant_only(live_world, probe_topic) -> None:
    subscribed = await connect_live(live_world.avery, f"tenant=acme&topics={probe_topic}")
    not_subscribed = await connect_live(live_world.adam, "tenant=acme")
    other_tenant = await connect_live(live_world.greta, f"tenant=globex&topics={probe_topic}")
    await emit_probe(live_world.acme.pk, {"n": 7})
    assert await subscribed.receive_from(timeout=2) == '<div id="probe" hx-swap-oob="true">acme avery 7</div>'
    assert await not_subscribed.receive_nothing(timeout=0.3)
    assert await other_tenant.receive_nothing(timeout=0.1)
    await emit_probe(live_world.globex.pk, {"n": 8})
    assert "globex greta 8" in await other_tenant.receive_from(timeout=2)
    assert await subscribed.receive_nothing(timeout=0.3)
    for socket in (subscribed, not_subscribed, other_tenant):
        await socket.disconnect()


async def test_topics_of_another_tenant_and_unknown_topics_are_ignored(
    live_world, probe_topic, caplog
) -> None:
    caplog.set_level("INFO", logger="dashboards.live")
    # avery belongs to Acme only: asking for Globex's topics gets nothing, and no error
    intruder = await connect_live(live_world.avery, f"tenant=globex&topics={probe_topic}")
    unknown = await connect_live(live_world.avery, "tenant=acme&topics=nothing,Bad.Name")
    await emit_probe(live_world.globex.pk, {"n": 1})
    await emit_probe(live_world.acme.pk, {"n": 2})
    assert await intruder.receive_nothing(timeout=0.3)
    assert await unknown.receive_nothing(timeout=0.1)
    assert "tenant 'globex' is not theirs" in caplog.text and "unknown topics ignored" in caplog.text
    await send_to_analysts()  # the page still gets avery's own toasts
    assert "Job done" in await intruder.receive_from(timeout=2)
    for socket in (intruder, unknown):
        await socket.disconnect()


async def test_an_empty_or_failing_renderer_sends_nothing_and_the_page_goes_on(
    live_world, probe_topic
) -> None:
    page = await connect_live(live_world.avery, f"tenant=acme&topics={probe_topic}")
    for data in ({"skip": True}, {"fail": True}):
        await emit_probe(live_world.acme.pk, data)
        assert await page.receive_nothing(timeout=0.3)
    await emit_probe(live_world.acme.pk, {"n": 3})
    assert "acme avery 3" in await page.receive_from(timeout=2)
    await page.disconnect()


async def test_signing_out_closes_the_page(live_world) -> None:
    from tests.runtime.conftest import signed_in_cookie

    cookie = await sync_to_async(signed_in_cookie)(live_world.avery)
    page = await connect_live(cookie=cookie)
    await sync_to_async(broadcast)(login_group(cookie), {"type": "login.ended"})
    assert await page.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_NOT_SIGNED_IN}


async def test_leaving_the_tenant_closes_its_live_page(live_world, probe_topic) -> None:
    from dashboards.tenancy import services
    from dashboards.tenancy.models import Membership

    page = await connect_live(live_world.alice, f"tenant=globex&topics={probe_topic}")
    elsewhere = await connect_live(live_world.alice, f"tenant=acme&topics={probe_topic}")

    def remove() -> None:
        membership = Membership.objects.get(tenant=live_world.globex, user=live_world.alice)
        services.membership_remove(membership=membership, actor=services.SYSTEM)

    await sync_to_async(remove)()
    assert await page.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    assert await elsewhere.receive_nothing(timeout=0.3)  # her Acme page stays open
    await elsewhere.disconnect()


async def test_leaving_the_tenant_just_after_the_page_read_its_access_closes_it(
    live_world, probe_topic, monkeypatch
) -> None:
    """The window between reading access and joining the groups that hear of changes: a removal
    committed there is heard, as the groups are joined before the read."""
    from dashboards.live import consumers
    from dashboards.tenancy import services
    from dashboards.tenancy.models import Membership

    read = consumers.subscription_for

    def read_then_remove(**kwargs):
        subscription = read(**kwargs)
        membership = Membership.objects.get(tenant=live_world.globex, user=live_world.alice)
        services.membership_remove(membership=membership, actor=services.SYSTEM)
        return subscription

    monkeypatch.setattr(consumers, "subscription_for", read_then_remove)
    page = await connect_live(live_world.alice, f"tenant=globex&topics={probe_topic}")
    assert await page.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_opening_a_live_page_reads_its_access_once(live_world, probe_topic, table_reads) -> None:
    """Its access was read a second time after every connect, to cover the window above."""
    cookie = await sync_to_async(signed_in_cookie)(live_world.avery)
    table_reads.clear()
    page = await connect_live(query=f"tenant=acme&topics={probe_topic}", cookie=cookie)
    assert await page.receive_nothing(timeout=0.5)
    await page.disconnect()
    reads = table_reads("django_session", "auth_user", "tenancy_membership")
    assert reads == {"django_session": 1, "auth_user": 1, "tenancy_membership": 1}


async def test_a_page_whose_user_may_see_less_gets_its_topics_again(live_world) -> None:
    """Still a member, no longer allowed an app (its teams changed): the page kept showing that
    app's scenarios, and a scenario's own page kept showing it."""
    from dashboards.hosting.models import App, AppAccess
    from dashboards.scenarios import services

    def create() -> int:
        app = App.objects.get(tenant=live_world.acme, slug="counter")
        return services.scenario_create(tenant_id=app.tenant_id, app_id=app.pk, name="Soon hidden").pk

    scenario_id = await sync_to_async(create)()
    page = await connect_live(live_world.avery, "tenant=acme&topics=scenarios")  # a viewer, no team

    def restrict() -> None:
        app = App.objects.get(tenant=live_world.acme, slug="counter")
        app.access = AppAccess.TEAMS
        app.save()

    await sync_to_async(restrict)()
    frame = await page.receive_from(timeout=3)
    assert '<tbody id="scenarios-rows" hx-swap-oob="true">' in frame
    assert f'id="scenario-{scenario_id}"' not in frame and "Soon hidden" not in frame
    assert '<span id="scenarios-reread" hidden hx-swap-oob="true"></span>' in frame  # its own page reads it
    assert await page.receive_nothing(timeout=0.3)
    await page.disconnect()


async def test_messages_meant_for_app_tabs_are_skipped(live_world) -> None:
    from dashboards.runtime.groups import inbox_group

    page = await connect_live(live_world.avery)
    await sync_to_async(broadcast)(inbox_group(live_world.avery.pk), {"type": "release.activated"})
    await sync_to_async(broadcast)(
        inbox_group(live_world.avery.pk), {"type": "notify.toast", "html": "<p>ok</p>"}
    )
    assert await page.receive_from(timeout=2) == "<p>ok</p>"
    await asyncio.sleep(0)
    await page.disconnect()


async def test_a_demoted_superuser_no_longer_gets_rows_only_superusers_see(live_world) -> None:
    """The page's renders judge the user as they are after an access change, not as they were at
    connect: alice, a superuser and a viewer of Globex, is demoted with its Scenarios page open."""
    from dashboards.hosting.models import AppAccess
    from dashboards.scenarios.services import scenario_create
    from tests.support import deploy_test_app

    alice = live_world.alice

    def make_superuser_with_a_team_app():
        app = deploy_test_app(live_world.globex, "board-only", "initial_state = {}\npage = 'x'\n",
                              access=AppAccess.TEAMS)  # fmt: skip
        alice.is_superuser = True
        alice.save()
        return app

    app = await sync_to_async(make_superuser_with_a_team_app)()
    page = await connect_live(alice, "tenant=globex&topics=scenarios")

    def demote():
        alice.is_superuser = False
        alice.save()  # the user's save asks their sockets to check their access again

    await sync_to_async(demote)()
    await asyncio.sleep(0.5)
    await sync_to_async(scenario_create)(
        tenant_id=live_world.globex.pk, app_id=app.pk, name="Board-only plan"
    )
    frames = []
    while not await page.receive_nothing(timeout=1.0):
        frames.append(await page.receive_from())
    assert not any("Board-only plan" in frame for frame in frames)
    await page.disconnect()


async def test_a_password_changed_elsewhere_closes_the_page_to_reconnect_afresh(
    live_world, probe_topic
) -> None:
    from dashboards.runtime.protocol import CLOSE_SERVICE_RESTART

    page = await connect_live(live_world.avery, f"tenant=acme&topics={probe_topic}")
    await asyncio.sleep(0.3)  # its look at its access once open is done

    def change_password() -> None:
        user = type(live_world.avery).objects.get(pk=live_world.avery.pk)
        user.set_password("another-brand-new-password-7")
        user.save()

    await sync_to_async(change_password)()
    assert await page.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_SERVICE_RESTART}
