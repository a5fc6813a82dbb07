"""Deploying apps: releases through the admin and the command, activation, rollback, the diff."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dashboards.hosting import services
from dashboards.hosting.models import App, AppLogEntry, AppRelease
from dashboards.ops.demo import DEMO_APPS_DIR

COUNTER = (DEMO_APPS_DIR / "counter.py").read_text()


@pytest.fixture
def counter(world) -> App:
    return App.objects.for_tenant(world.acme).get(slug="counter")


@pytest.fixture
def developer(client: Client, world) -> Client:
    client.force_login(world.adam)
    return client


def test_pasting_a_valid_source_in_the_admin_deploys_it(developer: Client, counter: App) -> None:
    response = developer.post(
        "/admin/hosting/apprelease/add/", {"app": counter.pk, "source": COUNTER + "\n# v2", "activate": "on"}
    )
    assert response.status_code == 302
    counter.refresh_from_db()
    assert counter.active_release.version == 2
    page = developer.get(response["Location"]).text
    assert "Valid." in page and "+# v2" in page  # the report, and the diff with v1


def test_an_invalid_release_is_kept_with_its_report_and_never_active(developer: Client, counter: App) -> None:
    response = developer.post(
        "/admin/hosting/apprelease/add/", {"app": counter.pk, "source": "def broken(:\n", "activate": "on"}
    )
    release = AppRelease.objects.get(app=counter, version=2)
    assert not release.is_valid
    page = developer.get(response["Location"]).text
    assert "syntax" in page and "main.py:1" in page
    counter.refresh_from_db()
    assert counter.active_release.version == 1
    with pytest.raises(ValidationError):
        services.release_activate(release=release)
    developer.post("/admin/hosting/apprelease/", {"action": "activate", "_selected_action": [release.pk]})
    counter.refresh_from_db()
    assert counter.active_release.version == 1


def test_uploading_a_zip_with_modules_and_a_page(developer: Client, counter: App) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("app/main.py", "from dashboards.sdk import init_handlers\nfrom . import more\n"
                        "init_handlers(more)\ninitial_state = {'n': 0}\n")  # fmt: skip
        bundle.writestr("app/more.py", "def bump(state):\n    state.n += 1\n")
        bundle.writestr("app/page.html", "{% text n %}{% button 'Bump' on_click='bump' %}")
    archive.name = "app.zip"
    archive.seek(0)
    developer.post("/admin/hosting/apprelease/add/", {"app": counter.pk, "upload": archive, "activate": "on"})
    release = AppRelease.objects.get(app=counter, version=2)
    assert release.is_valid, release.report
    assert set(release.files) == {"main.py", "more.py", "page.html"}
    assert release.handlers == ["bump"]


def test_roll_back_and_compare_any_two_versions(developer: Client, counter: App) -> None:
    for n in (2, 3):
        services.release_activate(
            release=services.release_create(
                app=counter, files={"main.py": COUNTER + f"\n# v{n}"}, author=None
            )
        )
    developer.post("/admin/hosting/app/", {"action": "roll_back", "_selected_action": [counter.pk]})
    counter.refresh_from_db()
    assert counter.active_release.version == 2
    v3 = AppRelease.objects.get(app=counter, version=3)
    page = developer.get(f"/admin/hosting/apprelease/{v3.pk}/change/?compare=1").text
    assert "Compared with v1" in page and "+# v3" in page


def test_releases_are_immutable(counter: App) -> None:
    release = counter.active_release
    release.files = {"main.py": "x"}
    with pytest.raises(ValueError, match="immutable"):
        release.save()


def test_other_tenants_cannot_deploy_into_an_app(client: Client, world, counter: App) -> None:
    client.force_login(world.gabe)  # developer of Globex
    response = client.post("/admin/hosting/apprelease/add/", {"app": counter.pk, "source": COUNTER})
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert not AppRelease.objects.filter(app=counter, version=2).exists()


def test_viewers_cannot_deploy(client: Client, world, counter: App) -> None:
    client.force_login(world.avery)
    assert client.get("/admin/hosting/apprelease/add/").status_code == 302  # to the admin login


def test_the_app_log_page_shows_the_newest_lines_first(developer: Client, counter: App) -> None:
    services.app_log_append(app_id=counter.pk, tenant_id=counter.tenant_id, release_id=None,
                            lines=[("info", "first line"), ("error", "second line")])  # fmt: skip
    page = developer.get(f"/admin/hosting/app/{counter.pk}/log/").text
    assert page.index("second line") < page.index("first line")
    assert 'hx-trigger="every 2s"' in page
    rows = developer.get(f"/admin/hosting/app/{counter.pk}/log/", headers={"HX-Request": "true"}).text
    assert "<table" in rows and "<html" not in rows


def test_the_log_of_another_tenants_app_is_not_found(client: Client, world, counter: App) -> None:
    client.force_login(world.gabe)
    assert client.get(f"/admin/hosting/app/{counter.pk}/log/").status_code == 404


def test_deploy_app_command_succeeds_and_fails_like_the_admin(world, counter: App, tmp_path: Path) -> None:
    good = tmp_path / "main.py"
    good.write_text(COUNTER + "\n# from CI")
    out = io.StringIO()
    call_command("deploy_app", str(good), "--tenant", "acme", "--app", "counter", stdout=out)
    assert "v2 is active" in out.getvalue()
    bad = tmp_path / "bad.py"
    bad.write_text("import nowhere_to_be_found\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="invalid"):
        call_command("deploy_app", str(bad), "--tenant", "acme", "--app", "counter", stderr=err)
    assert re.search(r"main\.py:1: import: ModuleNotFoundError", err.getvalue())
    counter.refresh_from_db()
    assert counter.active_release.version == 2


def test_a_broken_app_never_takes_the_platform_down(client: Client, world, counter: App) -> None:
    # Valid at validation, failing when this process imports it (a missing environment, say).
    flag = "DASHBOARDS_TEST_BREAK_APP"
    source = f"import os\nif os.environ.get('{flag}'):\n    raise RuntimeError('no')\npage = 'x'\n"
    release = services.release_create(app=counter, files={"main.py": source}, author=None)
    services.release_activate(release=release)
    import os

    os.environ["DASHBOARDS_TEST_BREAK_APP"] = "1"
    try:
        client.force_login(world.avery)
        response = client.get("/t/acme/apps/counter/")
        assert response.status_code == 503 and "failed to start" in response.text
        assert client.get("/t/acme/").status_code == 200
        assert AppLogEntry.objects.filter(app=counter, message__contains="failed to start").exists()
    finally:
        del os.environ["DASHBOARDS_TEST_BREAK_APP"]
