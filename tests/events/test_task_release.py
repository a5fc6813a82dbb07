"""The release an events task runs: within its tenant, loaded once, a broken one reported."""

from __future__ import annotations

import pytest

from dashboards.events.task_release import ReleaseUnavailable, task_release
from dashboards.hosting.models import AppLogEntry, AppRelease, ReleaseStatus
from tests.support import deploy_test_app

SOURCE = 'page = "{% text note %}"\ninitial_state = {"note": ""}\n'


def test_a_loaded_release_is_not_read_again(world, django_assert_num_queries) -> None:
    app = deploy_test_app(world.acme, "task-release", SOURCE)
    first = task_release(app.active_release_id, label="test", tenant_id=world.acme.pk)
    with django_assert_num_queries(1):  # the row's ids only: the code is loaded, its files not read
        again = task_release(app.active_release_id, label="test", tenant_id=world.acme.pk)
    assert again.app is first.app
    assert (again.pk, again.tenant_id, again.app_id) == (app.active_release_id, world.acme.pk, app.pk)


def test_a_release_of_another_tenant_or_none_is_unavailable(world) -> None:
    app = deploy_test_app(world.acme, "task-release", SOURCE)
    with pytest.raises(ReleaseUnavailable, match="in this tenant"):
        task_release(app.active_release_id, label="test", tenant_id=world.globex.pk)
    with pytest.raises(ReleaseUnavailable, match="no such release"):
        task_release(10**9, label="test")


def test_a_release_that_does_not_load_is_reported_in_its_apps_log(world) -> None:
    app = deploy_test_app(world.acme, "task-release", SOURCE)
    broken = AppRelease.objects.create(
        tenant=world.acme, app=app, version=99, status=ReleaseStatus.INVALID,
        files={"main.py": "raise RuntimeError('broken on purpose')"},
    )  # fmt: skip
    with pytest.raises(ReleaseUnavailable, match="does not load"):
        task_release(broken.pk, label="on_event (job update)", tenant_id=world.acme.pk)
    line = AppLogEntry.objects.filter(app=app).latest("created_at")
    assert line.level == "error"
    assert line.message.startswith("on_event (job update): the app's code failed to load")
