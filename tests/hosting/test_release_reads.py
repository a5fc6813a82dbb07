"""A release's files and report (up to a few MB) are read only where they are used.

Every page, socket and admin list reads apps with their active release; reading the release's
source with it would cost every request of a large app its JSON.
"""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboards.hosting import services
from dashboards.hosting.models import App
from dashboards.ops.demo import DEMO_APPS_DIR

COUNTER = (DEMO_APPS_DIR / "counter.py").read_text()


def release_bodies_read(queries: CaptureQueriesContext) -> list[str]:
    """The queries that read a release's files or report."""
    return [q["sql"] for q in queries if re.search(r'"hosting_apprelease"\."(files|report)"', q["sql"])]


def test_an_app_page_reads_no_release_files_once_the_release_is_loaded(client: Client, world) -> None:
    client.force_login(world.avery)
    assert client.get("/t/acme/apps/counter/").status_code == 200  # loads the release (reads its files)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/t/acme/apps/counter/").status_code == 200
    assert release_bodies_read(queries) == []


def test_the_admin_lists_of_apps_and_releases_read_no_release_bodies_and_do_not_grow_with_rows(
    client: Client, world
) -> None:
    client.force_login(world.adam)
    counter = App.objects.for_tenant(world.acme).get(slug="counter")

    def queries_of(url: str) -> CaptureQueriesContext:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert release_bodies_read(queries) == []
        return queries

    before = {url: len(queries_of(url)) for url in ("/admin/hosting/app/", "/admin/hosting/apprelease/")}
    for n in (2, 3, 4):
        services.release_activate(
            release=services.release_create(
                app=counter, files={"main.py": COUNTER + f"\n# v{n}"}, author=None
            )
        )
    App.objects.create(tenant=world.acme, slug="another", name="Another")
    after = {url: len(queries_of(url)) for url in before}
    assert after == before
    # A release's own page still shows its source and report.
    page = client.get(f"/admin/hosting/apprelease/{counter.releases.get(version=4).pk}/change/").text
    assert "# v4" in page
