"""A release report the app forged: refused at validation, and never fatal to the tenant's events."""

from __future__ import annotations

import logging

import pytest

from dashboards.events import delivery
from dashboards.events.event import Event
from dashboards.hosting import services
from dashboards.hosting.models import App, AppRelease, ReleaseStatus

FORGED_AT_EXIT = (
    "import atexit, os, sys\n"
    'data = b\'{"ok": true, "problems": [], "handlers": [], "state_keys": [], "on_event": [1]}\'\n'
    "atexit.register(lambda: os.write(int(sys.argv[2]), len(data).to_bytes(4, 'big') + data))\n"
    "atexit.register(lambda: open(sys.argv[2], 'w').write(data.decode()))\n"
)


def test_a_release_that_writes_its_own_report_at_exit_stays_invalid(world) -> None:
    app = App.objects.for_tenant(world.acme).get(slug="counter")
    release = services.release_create(app=app, files={"main.py": FORGED_AT_EXIT}, author=None)
    assert release.status == ReleaseStatus.INVALID
    assert [p["kind"] for p in release.report["problems"]] == ["page_missing"]
    assert "on_event" not in release.report


@pytest.fixture
def forged_and_good(world):
    """Two active releases of one tenant: one whose stored report was forged, one subscribed."""
    counter = App.objects.for_tenant(world.acme).get(slug="counter")
    other = App.objects.for_tenant(world.acme).exclude(pk=counter.pk).first()
    assert other is not None
    good_filter = {"entity_type": "custom", "operation": None, "entity_id": None, "attribute_name": None}
    made = []
    for app, on_event in (
        (counter, [1, "x", {"entity_type": "nope"}, [], good_filter]),
        (other, [good_filter]),
    ):
        release = AppRelease.objects.create(
            tenant=world.acme, app=app, version=900, files={"main.py": ""}, status=ReleaseStatus.VALID,
            report={"ok": True, "problems": [], "on_event": on_event}, handlers=[], state_keys=[],
        )  # fmt: skip
        App.objects.filter(pk=app.pk).update(active_release=release)
        made.append(release)
    yield made
    for release in made:
        delivery._release_filters.pop(release.pk, None)


def test_filters_a_forged_report_cannot_be_read_are_skipped_not_fatal_to_the_tenant(
    world, forged_and_good, caplog
) -> None:
    forged, good = forged_and_good
    with caplog.at_level(logging.WARNING, logger="dashboards.events.delivery"):
        active = delivery.load_event_filters(world.acme.pk)
        delivery.load_event_filters(world.acme.pk)  # cached: said once
    assert {forged.pk, good.pk} <= set(active)
    assert len(delivery._release_filters[forged.pk]) == 1  # the one entry that is a filter
    warnings = [r for r in caplog.records if str(forged.pk) in r.getMessage()]
    assert len(warnings) == 1 and "4 on_event filter(s)" in warnings[0].getMessage()
    event = Event(tenant_id=world.acme.pk, entity_type="custom", operation="submission")
    assert {forged.pk, good.pk} <= set(delivery.releases_to_process(event))
