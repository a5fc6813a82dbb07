"""Deploying in the admin: the message after a save, the release page's Activate button, the Add
form filled with the active release, a source whose copy brings no line numbers, and the queries
of a release's diff."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboards.hosting import services, uploads
from dashboards.hosting.admin import ACTIVATE_BUTTON, AppReleaseAdmin
from dashboards.hosting.models import App, AppRelease
from dashboards.ops.demo import DEMO_APPS_DIR

COUNTER = (DEMO_APPS_DIR / "counter.py").read_text()
ADD = "/admin/hosting/apprelease/add/"


@pytest.fixture
def counter(world) -> App:
    return App.objects.for_tenant(world.acme).get(slug="counter")


@pytest.fixture
def developer(client: Client, world) -> Client:
    client.force_login(world.adam)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def page_url(release: AppRelease) -> str:
    return f"/admin/hosting/apprelease/{release.pk}/change/"


def activate_url(release: AppRelease) -> str:
    return f"/admin/hosting/apprelease/{release.pk}/activate/"


def draft(app: App, tag: str = "draft") -> AppRelease:
    return services.release_create(app=app, files={"main.py": COUNTER + f"\n# {tag}\n"}, author=None)


# --- the message after a save ---


def test_saving_without_activating_says_the_release_is_not_active_and_how_to_activate_it(
    developer: Client, counter: App
) -> None:
    response = developer.post(ADD, {"app": counter.pk, "source": COUNTER + "\n# v2"}, follow=True)
    assert messages_of(response) == [
        f"Counter and greeting v2 is valid and saved, but not active: new sessions still get v1. Press "
        f'"{ACTIVATE_BUTTON}" on this page to make it active.'
    ]
    assert ACTIVATE_BUTTON in response.text.split('class="messagelist"')[1]  # the button is on that page
    counter.refresh_from_db()
    assert counter.active_release.version == 1


def test_saving_and_activating_says_it_is_active(developer: Client, counter: App) -> None:
    response = developer.post(ADD, {"app": counter.pk, "source": COUNTER, "activate": "on"}, follow=True)
    assert messages_of(response) == ["Counter and greeting v2 is valid and now active for new sessions."]
    assert f">{ACTIVATE_BUTTON}<" not in response.text


def test_saving_an_invalid_release_says_it_is_kept_and_can_never_be_activated(
    developer: Client, counter: App
) -> None:
    for activate in ({"activate": "on"}, {}):
        response = developer.post(
            ADD, {"app": counter.pk, "source": "def broken(:\n", **activate}, follow=True
        )
        [message] = messages_of(response)
        assert message.startswith("Counter and greeting v") and "is saved but invalid" in message
        assert "can never be activated" in message
        assert f">{ACTIVATE_BUTTON}<" not in response.text
    counter.refresh_from_db()
    assert counter.active_release.version == 1


# --- the release page's Activate button ---


def test_the_activate_button_activates_a_valid_release_from_its_page(developer: Client, counter: App) -> None:
    release = draft(counter)
    page = developer.get(page_url(release)).text
    assert f'action="{activate_url(release)}"' in page and f">{ACTIVATE_BUTTON}<" in page
    response = developer.post(activate_url(release))
    assert response.status_code == 302 and response["Location"] == page_url(release)
    counter.refresh_from_db()
    assert counter.active_release == release
    page = developer.get(page_url(release))
    assert messages_of(page) == ["Counter and greeting v2 is now active for new sessions."]
    assert f">{ACTIVATE_BUTTON}<" not in page.text  # active now: no button


def test_activating_the_active_release_again_changes_nothing(developer: Client, counter: App) -> None:
    active = counter.active_release
    response = developer.post(activate_url(active), follow=True)
    assert messages_of(response) == ["Counter and greeting v1 is already the active release."]
    assert AppRelease.objects.get(pk=active.pk).activated_at == active.activated_at


def test_the_activate_button_refuses_an_invalid_release(developer: Client, counter: App) -> None:
    release = services.release_create(app=counter, files={"main.py": "def broken(:\n"}, author=None)
    assert f">{ACTIVATE_BUTTON}<" not in developer.get(page_url(release)).text
    response = developer.post(activate_url(release), follow=True)
    assert messages_of(response) == ["Counter and greeting v2 is invalid and can never become active."]
    counter.refresh_from_db()
    assert counter.active_release.version == 1


def test_activating_is_a_post_with_a_csrf_token(world, counter: App) -> None:
    release = draft(counter)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.adam)
    assert client.get(activate_url(release)).status_code == 405
    assert client.post(activate_url(release)).status_code == 403
    page = client.get(page_url(release)).text
    token = re.search(r'action="[^"]+/activate/"[^>]*><input type="hidden" name="csrfmiddlewaretoken" '
                      r'value="([^"]+)"', page)  # fmt: skip
    assert token, "the button's form carries the CSRF token"
    assert client.post(activate_url(release), {"csrfmiddlewaretoken": token[1]}).status_code == 302
    counter.refresh_from_db()
    assert counter.active_release == release


def test_another_tenant_cannot_activate_a_release(client: Client, world, counter: App) -> None:
    release = draft(counter)
    client.force_login(world.gabe)  # developer of Globex
    assert client.post(activate_url(release)).status_code == 404
    assert client.get(f"/admin/hosting/apprelease/{release.pk}/download/").status_code == 404
    client.force_login(world.avery)  # viewer of Acme: no admin
    assert client.post(activate_url(release)).status_code == 302
    assert client.post(activate_url(release))["Location"].startswith("/admin/login/")
    counter.refresh_from_db()
    assert counter.active_release.version == 1


def test_the_button_and_the_list_action_ask_the_same_permission(
    developer: Client, counter: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = draft(counter)
    monkeypatch.setattr(AppReleaseAdmin, "has_activate_permission", lambda self, request, obj=None: False)
    assert 'value="activate"' not in developer.get("/admin/hosting/apprelease/").text  # the action's gone
    assert f">{ACTIVATE_BUTTON}<" not in developer.get(page_url(release)).text
    assert developer.post(activate_url(release)).status_code == 403
    counter.refresh_from_db()
    assert counter.active_release.version == 1


# --- the Add form, filled with the active release ---


def test_the_add_form_holds_the_active_source_so_a_handler_is_edited_and_saved(
    developer: Client, counter: App
) -> None:
    response = developer.get(ADD, {"app": counter.pk})
    form = response.context["adminform"].form
    assert form.initial["source"] == COUNTER and form.initial["app"] == str(counter.pk)
    assert "edit it and save" in response.text
    edited = form.initial["source"].replace("Add one", "Add 1")
    assert edited != COUNTER
    developer.post(ADD, {"app": counter.pk, "source": edited, "activate": "on"})
    counter.refresh_from_db()
    assert counter.active_release.version == 2 and counter.active_release.files == {"main.py": edited}


def test_source_edited_in_the_browser_keeps_the_releases_line_ends(developer: Client, counter: App) -> None:
    """A text box's lines come with CRLF: stored so, every line of the download differed."""
    edited = COUNTER.replace("Add one", "Add 1").replace("\n", "\r\n")
    developer.post(ADD, {"app": counter.pk, "source": edited, "activate": "on"})
    counter.refresh_from_db()
    assert counter.active_release.files == {"main.py": COUNTER.replace("Add one", "Add 1")}


def test_the_app_choices_name_their_tenant(admin_client: Client, world, counter: App) -> None:
    """Acme's and Globex's counters share a name: a superuser could not tell them apart."""
    response = admin_client.get(ADD, {"app": counter.pk})
    labels = [label for _value, label in response.context["adminform"].form.fields["app"].choices][1:]
    assert "Counter and greeting (Acme Corp)" in labels and "Counter and greeting (Globex Inc)" in labels
    assert "the active release of Counter and greeting (Acme Corp)" in response.text


def test_a_release_of_several_files_is_offered_as_a_zip_not_pasted(developer: Client, counter: App) -> None:
    files = {
        "main.py": "from . import more\ninitial_state = {}\n",
        "more.py": "x = 1\n",
        "page.html": "<p>hi</p>",
    }
    release = services.release_create(app=counter, files=files, author=None)
    services.release_activate(release=release)
    response = developer.get(ADD, {"app": counter.pk})
    assert "source" not in response.context["adminform"].form.initial  # pasted, it would be main.py alone
    assert "has 3 files (main.py, more.py, page.html)" in response.text
    download = f"/admin/hosting/apprelease/{release.pk}/download/"
    assert f'href="{download}"' in response.text
    archive = developer.get(download)
    assert archive["Content-Type"] == "application/zip"
    assert archive["Content-Disposition"] == 'attachment; filename="counter-v2.zip"'
    assert uploads.release_files_from_upload("counter-v2.zip", archive.content) == files  # uploads back


@pytest.mark.parametrize("app_id", ["abc", "99999999999999999999999", "", "%C2%B2"])
def test_an_odd_app_in_the_add_url_fills_nothing(developer: Client, app_id: str) -> None:
    response = developer.get(ADD, {"app": app_id})
    assert response.status_code == 200 and "source" not in response.context["adminform"].form.initial


def test_the_add_form_never_shows_another_tenants_source(client: Client, world, counter: App) -> None:
    client.force_login(world.gabe)  # developer of Globex
    response = client.get(ADD, {"app": counter.pk})
    assert response.status_code == 200 and "source" not in response.context["adminform"].form.initial
    assert "increment" not in response.text and "edit it and save" not in response.text


# --- the source, copied without its line numbers ---


def test_the_source_shown_holds_no_line_numbers_in_its_text(developer: Client, counter: App) -> None:
    source = "a = 1\n\nb = '<2>'\n"
    release = services.release_create(app=counter, files={"main.py": source}, author=None)
    page = developer.get(page_url(release)).text
    [shown] = re.findall(r'<pre class="release-source">(.*?)</pre>', page, re.S)
    assert html.unescape(re.sub(r"<[^>]+>", "", shown)) == source.rstrip("\n")  # what a copy brings
    assert [int(n) for n in re.findall(r'data-line="(\d+)"', shown)] == [1, 2, 3]
    assert "css/release.css" in page  # draws the numbers


def test_the_add_form_offers_one_save_button(developer: Client, counter: App) -> None:
    """ "Save and add another" and "Save and view" went to the release's page, as "Save" does."""
    page = developer.get(ADD, {"app": counter.pk}).text
    assert 'name="_save"' in page
    assert 'name="_addanother"' not in page and 'name="_continue"' not in page


# --- the diff's queries ---


@pytest.fixture
def history(counter: App) -> dict[str, AppRelease]:
    """v2 and v3 went live in turn, then v2 again (a rollback); v4 is a draft never activated."""
    v2, v3 = draft(counter, "v2"), draft(counter, "v3")
    for release in (v2, v3, v2):
        services.release_activate(release=release)
    v1 = AppRelease.objects.get(app=counter, version=1)
    return {"v1": v1, "v2": v2, "v3": v3, "v4": draft(counter, "v4")}


@pytest.mark.parametrize(
    ("name", "compared_with"),
    [
        ("v3", "Compared with v2 (the active release)"),  # live once: the live one is the base
        ("v4", "Compared with v2 (the active release)"),  # a draft
        ("v2", "Compared with v3 (the release live before it)"),  # the live one
    ],
)
def test_the_diff_takes_two_queries_the_base_and_the_versions(
    history: dict[str, AppRelease], name: str, compared_with: str, django_assert_num_queries
) -> None:
    """The release live before this one was looked up on every release's page, also when the
    active release was the base (it only could have named it, and the active release's name wins)."""
    release = AppRelease.objects.select_related("app__tenant").get(pk=history[name].pk)
    with django_assert_num_queries(2):
        shown = AppReleaseAdmin(AppRelease, admin.site).diff_display(release)
    assert compared_with in shown


def live_before_queries(developer: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = developer.get(url).text
    return sum('"activated_at" <' in query["sql"] for query in queries.captured_queries), page


def test_a_release_page_looks_up_the_release_live_before_once_and_only_when_it_is_needed(
    developer: Client, history: dict[str, AppRelease]
) -> None:
    v2, v3 = history["v2"], history["v3"]
    assert live_before_queries(developer, page_url(v3))[0] == 0  # the active release is the base
    assert live_before_queries(developer, page_url(v3) + "?compare=2")[0] == 0  # asked for: the active one
    assert live_before_queries(developer, page_url(history["v4"]) + "?compare=3")[0] == 0  # never live
    count, page = live_before_queries(developer, page_url(v2))  # the live one: its base
    assert count == 1 and "Compared with v3 (the release live before it)" in page
    count, page = live_before_queries(developer, page_url(v3) + "?compare=1")  # names the base asked for
    assert count == 1 and "Compared with v1 (the release live before it)" in page
