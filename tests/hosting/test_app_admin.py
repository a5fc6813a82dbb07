"""An app's tenant and teams, the deploy's transaction, the diff's limits and the rollback."""

from __future__ import annotations

import difflib
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client

from dashboards.hosting import admin as hosting_admin
from dashboards.hosting import services
from dashboards.hosting.models import App, AppRelease
from dashboards.ops.demo import DEMO_APPS_DIR
from dashboards.tenancy.models import Membership, Role, Team

COUNTER = (DEMO_APPS_DIR / "counter.py").read_text()


@pytest.fixture
def counter(world) -> App:
    return App.objects.for_tenant(world.acme).get(slug="counter")


def app_form(app: App, **changes: Any) -> dict[str, Any]:
    fields = {"tenant": app.tenant_id, "slug": app.slug, "name": app.name, "description": app.description,
              "access": app.access, "handler_timeout_seconds": app.handler_timeout_seconds}  # fmt: skip
    return {**fields, **changes}


# --- teams: the app's own tenant's only ---


@pytest.mark.parametrize("username", ["gabe", "admin"])  # a developer of both tenants, a superuser
def test_an_app_cannot_be_given_a_team_of_another_tenant(
    client: Client, world, counter: App, username: str
) -> None:
    Membership.objects.create(tenant=world.acme, user=world.gabe, role=Role.DEVELOPER)
    client.force_login(world.users[username])
    operations = Team.objects.for_tenant(world.globex).get()
    response = client.post(
        f"/admin/hosting/app/{counter.pk}/change/", app_form(counter, access="teams", teams=[operations.pk])
    )
    assert response.status_code == 200  # the form again, with the error
    assert not counter.teams.exists()
    # The change form offers the app's tenant's teams only, to a superuser too.
    page = client.get(f"/admin/hosting/app/{counter.pk}/change/").text
    assert "Analysts" in page and "Operations" not in page


def test_a_new_app_cannot_be_given_a_team_of_another_tenant(client: Client, world) -> None:
    client.force_login(world.admin)
    operations = Team.objects.for_tenant(world.globex).get()
    new_app = {"tenant": world.acme.pk, "slug": "fresh", "name": "Fresh", "access": "teams",
               "handler_timeout_seconds": 10, "description": ""}  # fmt: skip
    response = client.post("/admin/hosting/app/add/", {**new_app, "teams": [operations.pk]})
    assert response.status_code == 200
    assert (
        "An app&#x27;s teams must belong to the app&#x27;s tenant (Acme Corp): Operations does not"
        in response.text
    )
    assert not App.objects.for_tenant(world.acme).filter(slug="fresh").exists()
    analysts = Team.objects.for_tenant(world.acme).get()
    response = client.post("/admin/hosting/app/add/", {**new_app, "teams": [analysts.pk]})
    assert response.status_code == 302
    fresh = App.objects.for_tenant(world.acme).get(slug="fresh")
    assert list(fresh.teams.all()) == [analysts]


def test_app_set_teams_refuses_a_team_of_another_tenant(world, counter: App) -> None:
    with pytest.raises(ValidationError, match="must belong to the app's tenant"):
        services.app_set_teams(app=counter, teams=[Team.objects.for_tenant(world.globex).get()])
    assert not counter.teams.exists()
    analysts = Team.objects.for_tenant(world.acme).get()
    services.app_set_teams(app=counter, teams=[analysts])
    assert list(counter.teams.all()) == [analysts]


# --- an app never changes tenant ---


def test_an_apps_tenant_never_changes(client: Client, world, counter: App) -> None:
    client.force_login(world.admin)
    assert 'name="tenant"' not in client.get(f"/admin/hosting/app/{counter.pk}/change/").text
    client.post(
        f"/admin/hosting/app/{counter.pk}/change/", app_form(counter, tenant=world.globex.pk, slug="moved")
    )
    counter.refresh_from_db()
    assert counter.tenant == world.acme and counter.slug == "moved"  # the rest of the form is saved
    assert set(AppRelease.objects.filter(app=counter).values_list("tenant", flat=True)) == {world.acme.pk}
    # Whatever the path: a form's clean, or a save.
    counter.tenant = world.globex
    with pytest.raises(ValidationError, match="tenant cannot change"):
        counter.full_clean()
    with pytest.raises(ValueError, match="tenant cannot change"):
        counter.save()
    assert App.objects.get(pk=counter.pk).tenant_id == world.acme.pk


def test_a_release_belongs_to_its_apps_tenant(world, counter: App) -> None:
    with pytest.raises(ValueError, match="its app's tenant"):
        AppRelease.objects.create(tenant=world.globex, app=counter, version=50, files={"main.py": COUNTER},
                                  status="valid")  # fmt: skip


# --- the validation runs outside any transaction ---


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each validation, whether a transaction was open while it ran."""
    seen: list[bool] = []
    validate = services.validate_release_files

    def watched(files: dict[str, str]) -> dict[str, Any]:
        seen.append(transaction.get_connection().in_atomic_block)
        return validate(files)

    monkeypatch.setattr(services, "validate_release_files", watched)
    return seen


def test_no_transaction_is_open_while_a_release_is_validated(
    live_world, validations: list[bool], client: Client, tmp_path: Path
) -> None:
    # On SQLite a transaction holds the database's write lock from its start: a validation (up to
    # VALIDATION_TIMEOUT_SECONDS) inside one made every other write of the platform wait.
    counter = App.objects.for_tenant(live_world.acme).get(slug="counter")
    services.release_create(app=counter, files={"main.py": COUNTER + "\n# service"}, author=None)
    client.force_login(live_world.adam)
    response = client.post(
        "/admin/hosting/apprelease/add/",
        {"app": counter.pk, "source": COUNTER + "\n# admin", "activate": "on"},
    )
    assert response.status_code == 302
    source = tmp_path / "main.py"
    source.write_text(COUNTER + "\n# command")
    call_command("deploy_app", str(source), "--tenant", "acme", "--app", "counter", stdout=io.StringIO())
    assert validations == [False, False, False]
    counter.refresh_from_db()
    assert counter.active_release.version == 4
    assert [r.version for r in AppRelease.objects.filter(app=counter).order_by("version")] == [1, 2, 3, 4]


# --- the diff's limits ---


@pytest.fixture
def diff_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files difflib compared (by their new name)."""
    calls: list[str] = []
    unified_diff = difflib.unified_diff

    def counted(a: Any, b: Any, fromfile: str = "", tofile: str = "", **kwargs: Any) -> Any:
        calls.append(tofile)
        return unified_diff(a, b, fromfile, tofile, **kwargs)

    monkeypatch.setattr(difflib, "unified_diff", counted)
    return calls


def test_a_file_too_large_to_compare_is_named_not_compared(
    client: Client, world, counter: App, diff_calls: list[str]
) -> None:
    big = "\n".join(f"# line {n}" for n in range(15_000))
    services.release_create(app=counter, files={"main.py": COUNTER + big, "more.py": "a = 1\n"}, author=None)
    v3 = services.release_create(
        app=counter, files={"main.py": COUNTER + big + "\n# v3", "more.py": "a = 2\n"}, author=None
    )
    client.force_login(world.adam)
    page = client.get(f"/admin/hosting/apprelease/{v3.pk}/change/?compare=2").text
    lines = 2 * len((COUNTER + big).splitlines()) + 1
    assert f"main.py: too large to compare here: {lines:,} lines" in page
    assert "+a = 2" in page  # the small file is compared
    assert diff_calls == ["v3/more.py"]


def test_the_diff_shown_is_cut_and_the_page_compares_a_bounded_number_of_lines(
    diff_calls: list[str],
) -> None:
    old = {f"m{n}.py": "\n".join(f"a{i}" for i in range(1_900)) for n in range(8)}
    new = {name: text.replace("a", "b") for name, text in old.items()}
    notes, lines = hosting_admin.release_diff(
        AppRelease(version=1, files=old), AppRelease(version=2, files=new)
    )
    assert len(diff_calls) == hosting_admin.DIFF_MAX_TOTAL_LINES // 3_800  # 3 files of 3,800 lines
    assert notes == [
        f"{name}: not compared here: the page compares at most 12,000 lines in all."
        for name in ("m3.py", "m4.py", "m5.py", "m6.py", "m7.py")
    ]
    assert len(lines) == hosting_admin.DIFF_MAX_OUTPUT_LINES + 1
    assert lines[-1] == f"… {3 * (3_800 + 3) - hosting_admin.DIFF_MAX_OUTPUT_LINES:,} more lines"


def test_lines_that_repeat_just_under_difflibs_threshold_are_not_compared(diff_calls: list[str]) -> None:
    """Two versions of 9,999 lines of 101 repeated ones took 26 s a page view on the admin's thread."""
    old = "\n".join(f"v{i % 101}" for i in range(9_999))
    new = "\n".join(f"v{(i * 7) % 101}" for i in range(9_999))
    notes, _ = hosting_admin.release_diff(
        AppRelease(version=1, files={"m.py": old}), AppRelease(version=2, files={"m.py": new})
    )
    assert diff_calls == [] and notes[0].startswith("m.py: too large to compare here: 19,998 lines")


def test_the_page_numbers_lines_as_python_and_its_report_do(client: Client, world, counter: App) -> None:
    """A form feed (an editor's page break) is no line break to Python; str.splitlines breaks there."""
    release = services.release_create(
        app=counter, files={"main.py": "page = 'x'\n\x0c\nx = (\n"}, author=None
    )
    problem = release.report["problems"][0]
    assert (problem["file"], problem["line"]) == ("main.py", 3)
    client.force_login(world.adam)
    page = client.get(f"/admin/hosting/apprelease/{release.pk}/change/").text
    assert '<span class="line" data-line="3">x = (</span>' in page


def test_the_release_page_reads_no_other_release_s_source(client: Client, world, counter: App) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    releases = [services.release_create(app=counter, files={"main.py": COUNTER + f"\n# {n}"}, author=None)
                for n in range(4)]  # fmt: skip
    client.force_login(world.adam)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/admin/hosting/apprelease/{releases[-1].pk}/change/")
    assert page.status_code == 200
    assert all(f"v{release.version}" in page.text for release in releases)  # the compare-with links
    reading_files = [q["sql"] for q in queries if '"files"' in q["sql"] and "hosting_apprelease" in q["sql"]]
    assert len(reading_files) <= 2, reading_files  # this release and the one it is compared with


def test_a_slug_or_team_name_the_tenant_uses_is_a_form_error_not_a_server_error(
    client: Client, world, counter: App
) -> None:
    client.force_login(world.adam)
    response = client.post(f"/admin/hosting/app/{counter.pk}/change/", app_form(counter, slug="sales"))
    assert response.status_code == 200 and "already exists" in response.text
    assert App.objects.get(pk=counter.pk).slug == "counter"
    _, second = (Team.objects.create(tenant=world.acme, name=name) for name in ("Red", "Blue"))
    client.force_login(world.alice)
    response = client.post(f"/admin/tenancy/team/{second.pk}/change/", {"name": "Red", "members": []})
    assert response.status_code == 200 and "already exists" in response.text
    assert Team.objects.get(pk=second.pk).name == "Blue"


@pytest.mark.parametrize("value", ["abc", "", "1.5", "9" * 30, "-1"])
def test_an_odd_tenant_filter_value_lists_nothing_and_never_fails(client: Client, world, value: str) -> None:
    client.force_login(world.adam)
    for path in ("/admin/hosting/app/", "/admin/hosting/apprelease/", "/admin/hosting/applogentry/"):
        assert client.get(path, {"tenant": value}).status_code in (200, 302), path


# --- rollback: back to the release active before the current one ---


def deploy(app: App, tag: str, *, activate: bool = True) -> AppRelease:
    release = services.release_create(app=app, files={"main.py": COUNTER + f"\n# {tag}"}, author=None)
    if activate:
        services.release_activate(release=release)
    return release


def test_rollback_returns_to_the_previously_active_release_not_a_draft(counter: App) -> None:
    v1 = counter.active_release
    deploy(counter, "v2 draft, never active", activate=False)
    v3 = deploy(counter, "v3")
    counter.refresh_from_db()
    assert services.app_rollback(app=counter) == v1
    counter.refresh_from_db()
    assert counter.active_release == v1
    # Rollback undoes the last activation: a second one returns to v3 (as does activating v1 by hand).
    assert services.app_rollback(app=counter) == v3


def test_rollback_after_activating_an_older_release_by_hand_returns_to_the_newer(counter: App) -> None:
    v1 = counter.active_release
    deploy(counter, "v2")
    v3 = deploy(counter, "v3")
    services.release_activate(release=v1)
    counter.refresh_from_db()
    assert services.app_rollback(app=counter) == v3


def test_rollback_with_no_earlier_active_release_says_so(developer_client: Client, counter: App) -> None:
    deploy(counter, "v2 draft", activate=False)
    response = developer_client.post(
        "/admin/hosting/app/", {"action": "roll_back", "_selected_action": [counter.pk]}, follow=True
    )
    [message] = [str(m) for m in response.context["messages"]]
    assert "no earlier active release to roll back to" in message and "activate a release" in message
    counter.refresh_from_db()
    assert counter.active_release.version == 1
    deploy(counter, "v3")
    response = developer_client.post(
        "/admin/hosting/app/", {"action": "roll_back", "_selected_action": [counter.pk]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == ["Counter and greeting is back on v1."]


@pytest.fixture
def developer_client(client: Client, world) -> Client:
    client.force_login(world.adam)
    return client


# --- the slug's error, once ---


def test_a_bad_slug_is_reported_once(world, tmp_path: Path) -> None:
    source = tmp_path / "main.py"
    source.write_text(COUNTER)
    with pytest.raises(CommandError) as raised:
        call_command("deploy_app", str(source), "--tenant", "acme", "--app", "bad slug!", "--create",
                     stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip
    assert str(raised.value).count("Enter a valid") == 1


# --- sharing with anyone who has the link ---


def test_a_developer_shares_an_app_by_link_and_resets_the_link_in_the_admin(
    client: Client, world, counter
) -> None:
    client.force_login(world.users["adam"])  # Acme's developer
    response = client.post(f"/admin/hosting/app/{counter.pk}/change/", app_form(counter, access="link"))
    assert response.status_code == 302
    counter.refresh_from_db()
    page = client.get(f"/admin/hosting/app/{counter.pk}/change/").text
    assert f'href="http://testserver/l/{counter.link_token}/"' in page
    assert Client().get(f"/l/{counter.link_token}/").status_code == 200  # anyone, not signed in
    old = counter.link_token
    client.post("/admin/hosting/app/", {"action": "reset_link", "_selected_action": [counter.pk]})
    counter.refresh_from_db()
    assert counter.link_token != old
    assert Client().get(f"/l/{old}/").status_code == 404
    assert Client().get(f"/l/{counter.link_token}/").status_code == 200


def test_the_shared_link_is_the_full_address_to_send_with_a_copy_button(
    client: Client, world, counter, settings
) -> None:
    """Built from the address the page was asked at (a path, /l/..., means nothing in an e-mail);
    the Copy button is a static script's, as the Content-Security-Policy runs no inline one."""
    settings.ALLOWED_HOSTS = ["dash.example.com"]
    counter.access = "link"
    counter.save()
    client.force_login(world.users["adam"])
    page = f"/admin/hosting/app/{counter.pk}/change/"
    response = client.get(page, HTTP_HOST="dash.example.com", secure=True)
    url = f"https://dash.example.com/l/{counter.link_token}/"
    assert f'<a href="{url}" id="shared-link-url" data-testid="shared-link">{url}</a>' in response.text
    assert 'data-copy="#shared-link-url">Copy link</button>' in response.text
    assert re.search(r'<script src="/static/js/copy-link(\.[0-9a-f]+)?\.js"', response.text)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_an_app_not_shared_by_link_says_how_to_share_it(client: Client, world, counter) -> None:
    client.force_login(world.users["adam"])
    page = client.get(f"/admin/hosting/app/{counter.pk}/change/").text
    assert "Anyone with the link" in page and counter.link_token not in page


def test_the_add_app_form_says_each_problem_once(client: Client, world) -> None:
    """A missing tenant said "required" and "cannot be null"; -1 s said "at least 0", then 0 "at least 1"."""
    client.force_login(world.adam)  # a developer of Acme only: its tenant is chosen already
    form = client.get("/admin/hosting/app/add/").context["adminform"].form
    assert form.initial["tenant"] == world.acme.pk
    new_app = {"slug": "fresh", "name": "Fresh", "access": "members", "handler_timeout_seconds": 10,
               "description": ""}  # fmt: skip
    response = client.post("/admin/hosting/app/add/", {**new_app, "tenant": ""})
    errors = response.context["adminform"].form.errors
    assert errors["tenant"] == ["This field is required."]
    for timeout in (-1, 0):
        response = client.post("/admin/hosting/app/add/", {**new_app, "tenant": world.acme.pk,
                                                           "handler_timeout_seconds": timeout})  # fmt: skip
        errors = response.context["adminform"].form.errors
        assert errors["handler_timeout_seconds"] == ["Ensure this value is greater than or equal to 1."]


def test_an_empty_upload_is_said_once(client: Client, world) -> None:
    client.force_login(world.adam)
    counter = App.objects.for_tenant(world.acme).get(slug="counter")
    empty = SimpleUploadedFile("main.py", b"")
    response = client.post("/admin/hosting/apprelease/add/", {"app": counter.pk, "upload": empty})
    errors = response.context["adminform"].form.errors
    assert errors == {"upload": ["The submitted file is empty."]}
