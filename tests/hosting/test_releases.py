"""Deploying apps: releases through the admin and the command, activation, rollback, the diff."""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dashboards.hosting import services, uploads
from dashboards.hosting.admin import ReleaseForm
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
    for odd in ("%C2%B2", "abc", "99999999999999999999"):  # superscript two passes str.isdigit
        assert developer.get(f"/admin/hosting/apprelease/{v3.pk}/change/?compare={odd}").status_code == 200
    # Unless asked, against the live release: what activating v3 again would change.
    assert (
        "Compared with v2 (the active release)"
        in developer.get(f"/admin/hosting/apprelease/{v3.pk}/change/").text
    )


def test_the_diff_skips_an_invalid_release_unless_asked(developer: Client, counter: App) -> None:
    """A fix deployed after a broken release was compared with the broken one, not with what ran."""
    broken = services.release_create(app=counter, files={"main.py": COUNTER + "\ndef oops(:\n"}, author=None)
    assert not broken.is_valid
    fixed = services.release_create(app=counter, files={"main.py": COUNTER + "\n# fixed"}, author=None)
    services.release_activate(release=fixed)
    page = developer.get(f"/admin/hosting/apprelease/{fixed.pk}/change/").text
    assert "Compared with v1 (the release live before it) ·" in page
    assert "+# fixed" in page and "oops" not in page
    page = developer.get(f"/admin/hosting/apprelease/{broken.pk}/change/").text
    assert "Compared with v3 (the active release)" in page
    page = developer.get(f"/admin/hosting/apprelease/{fixed.pk}/change/?compare={broken.version}").text
    assert "Compared with v2 (invalid)" in page and "-def oops(:" in page


def test_the_live_release_is_compared_with_the_one_live_before_it_not_a_draft(
    developer: Client, counter: App
) -> None:
    """A draft deployed without activating it came between, and the edit showed as the whole file."""
    draft = services.release_create(app=counter, files={"main.py": "# a draft\n" + COUNTER}, author=None)
    assert draft.is_valid and counter.active_release.version == 1
    edited = services.release_create(app=counter, files={"main.py": COUNTER + "\n# edited"}, author=None)
    services.release_activate(release=edited)
    page = developer.get(f"/admin/hosting/apprelease/{edited.pk}/change/").text
    assert "Compared with v1 (the release live before it) ·" in page
    assert "+# edited" in page and "a draft" not in page


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


def test_a_traceback_in_the_log_names_the_release_by_its_version(developer: Client, counter: App) -> None:
    """Code is imported under the release's id: the log said <app r1234>/main.py."""
    release = counter.active_release
    trace = (
        f'Traceback (most recent call last):\n  File "<app r{release.pk}>/main.py", line 3, in bump\nKeyError'
    )
    services.app_log_append(app_id=counter.pk, tenant_id=counter.tenant_id, release_id=release.pk,
                            lines=[("error", trace)])  # fmt: skip
    rows = developer.get(f"/admin/hosting/app/{counter.pk}/log/", headers={"HX-Request": "true"}).text
    assert f"&lt;app v{release.version}&gt;/main.py" in rows and f"r{release.pk}&gt;" not in rows
    assert f"<td>v{release.version}</td>" in rows
    entry = AppLogEntry.objects.filter(app=counter, release=release).get()
    for path in ("/admin/hosting/applogentry/", f"/admin/hosting/applogentry/{entry.pk}/change/"):
        page = developer.get(path).text  # the entries' own admin pages, as the Log page
        assert f"&lt;app v{release.version}&gt;/main.py" in page and f"r{release.pk}&gt;" not in page


def test_app_log_lines_any_database_can_hold(counter: App) -> None:
    # What app code prints may hold NUL (PostgreSQL refuses it) or a lone surrogate (not UTF-8).
    services.app_log_append(app_id=counter.pk, tenant_id=counter.tenant_id, release_id=None,
                            lines=[("info", "a\x00b"), ("info", "c\udcffd")])  # fmt: skip
    messages = set(AppLogEntry.objects.filter(app=counter).values_list("message", flat=True))
    assert {"a\ufffdb", "c\ufffdd"} <= messages


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


def zipped(*entries: tuple[str | zipfile.ZipInfo, str | bytes]) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicated name, on purpose
        for name, data in entries:
            bundle.writestr(name, data)
    return archive.getvalue()


def _corrupted(data: bytes) -> bytes:
    """A .zip whose entry's bytes no longer match its checksum."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        bundle.writestr("main.py", data)
    raw = bytearray(archive.getvalue())
    raw[raw.find(data[:8])] ^= 0x20
    return bytes(raw)


def _encrypted() -> bytes:
    raw = bytearray(zipped(("main.py", "page = 'x'\n")))
    raw[6] |= 1  # the "encrypted" flag, in the local and the central header
    raw[raw.find(b"PK\x01\x02") + 8] |= 1
    return bytes(raw)


def _symlink() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("main.py")
    info.external_attr = 0o120777 << 16
    return info


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("main.py", b"page = 'caf\xe9'\n", "main.py is not UTF-8 text: byte 0xe9 on line 1"),
        ("main.py", b"page = 'x'\n\x00\n", "main.py contains a NUL byte on line 2"),
        (
            "main.py",
            b"# coding: klingon\npage = 'x'\n",
            "coding line cannot be used (unknown encoding: klingon)",
        ),
        ("app.zip", b"PK\x03\x04 not really", "The .zip file cannot be read"),
        (
            "app.zip",
            _corrupted(b"page = 'a long enough line'\n"),
            "main.py cannot be read from the .zip (Bad CRC-32",
        ),
        ("app.zip", _encrypted(), "main.py in the .zip is encrypted"),
        (
            "app.zip",
            zipped(("../main.py", "page = 'x'\n")),
            "The .zip holds ../main.py, a path outside its folder",
        ),
        ("app.zip", zipped((_symlink(), "/etc/passwd")), "main.py in the .zip is a symbolic link"),
        (
            "app.zip",
            zipped(("app/main.py", "from .pkg import mod\n"), ("app/pkg/mod.py", "X = 1\n")),
            "app/pkg/mod.py: a release has no subfolders",
        ),
        ("app.zip", zipped(("main.py", "page = 'a'"), ("main.py", "page = 'b'")), "holds two main.py"),
        (
            "app.zip",
            zipped(("main.py", "x = 1\n"), ("page.html", b"\xff\xfe")),
            "page.html is not UTF-8 text",
        ),
    ],
)
def test_an_upload_that_is_not_a_release_is_refused_with_a_clear_error(
    developer: Client, counter: App, name: str, content: bytes, error: str
) -> None:
    response = developer.post(
        "/admin/hosting/apprelease/add/", {"app": counter.pk, "upload": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 200 and error in response.text  # the form again, with the reason
    assert not AppRelease.objects.filter(app=counter, version=2).exists()  # nothing stored, nothing mangled


class UnreadableUpload(SimpleUploadedFile):
    """An upload that fails the test if anything reads it."""

    def read(self, *args: object) -> bytes:
        pytest.fail("the upload was read")


def test_an_upload_larger_than_the_limit_is_refused_before_it_is_read(counter: App) -> None:
    huge = UnreadableUpload("app.zip", b"")
    huge.size = uploads.MAX_UPLOAD_BYTES + 1
    form = ReleaseForm(data={"app": counter.pk}, files={"upload": huge})
    assert not form.is_valid()
    assert form.non_field_errors() == ["app.zip is larger than 25 MiB."]


def test_an_entry_whose_header_lies_about_its_size_is_read_no_further_than_the_limit(counter: App) -> None:
    raw = bytearray(zipped(("main.py", "#" + "a" * (uploads.MAX_FILE_BYTES * 4))))
    central = raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, 100)  # "100 bytes", in both headers
    struct.pack_into("<I", raw, 22, 100)
    with pytest.raises(ValidationError, match=r"main.py cannot be read from the \.zip"):
        uploads.release_files_from_upload("bomb.zip", bytes(raw))
    big = zipped(("main.py", "#" + "a" * (uploads.MAX_FILE_BYTES * 4)))
    with pytest.raises(ValidationError, match=r"main\.py is too large"):
        uploads.release_files_from_upload("bomb.zip", big)


def test_byte_order_marks_coding_lines_and_zips_from_macos_and_windows_deploy(
    developer: Client, counter: App
) -> None:
    bundle = zipped(
        ("dist/app/main.py", b"\xef\xbb\xbfinitial_state = {'n': 0}\n"),
        ("dist\\app\\more.py", b"# -*- coding: latin-1 -*-\nLABEL = 'caf\xe9'\n"),
        ("dist/app/page.html", b"\xef\xbb\xbf{% text n %}"),
        ("__MACOSX/dist/app/._main.py", b"\x00\x05\x16\x07 resource fork"),
        ("dist/app/README.md", "not part of a release"),
    )
    developer.post(
        "/admin/hosting/apprelease/add/", {"app": counter.pk, "upload": SimpleUploadedFile("APP.ZIP", bundle)}
    )
    release = AppRelease.objects.get(app=counter, version=2)
    assert release.is_valid, release.report
    assert release.files == {
        "main.py": "initial_state = {'n': 0}\n",
        "more.py": "# -*- coding: latin-1 -*-\nLABEL = 'café'\n",
        "page.html": "{% text n %}",
    }


def test_a_pasted_source_with_a_byte_order_mark_deploys(developer: Client, counter: App) -> None:
    developer.post("/admin/hosting/apprelease/add/", {"app": counter.pk, "source": "\ufeff" + COUNTER})
    assert AppRelease.objects.get(app=counter, version=2).is_valid


def deploy(*args: str) -> str:
    """deploy_app's error message; never a traceback."""
    with pytest.raises(CommandError) as raised:
        call_command("deploy_app", *args, stdout=io.StringIO(), stderr=io.StringIO())
    return str(raised.value)


def test_deploy_app_refuses_bad_paths_and_files_with_a_message(world, counter: App, tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "main.py").write_bytes(b"page = 'caf\xe9'\n")
    assert "main.py is not UTF-8 text: byte 0xe9 on line 1" in deploy(
        str(folder), "--tenant", "acme", "--app", "counter"
    )
    (tmp_path / "notes.txt").write_text("hello")
    assert "deploy a .py file, a .zip, or a folder" in deploy(
        str(tmp_path / "notes.txt"), "--tenant", "acme", "--app", "counter"
    )
    assert "no such file or folder" in deploy(
        str(tmp_path / "gone.py"), "--tenant", "acme", "--app", "counter"
    )
    assert "the path is empty" in deploy("", "--tenant", "acme", "--app", "counter")
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "main.py")  # reading it would wait forever for a writer
    assert "main.py is not a regular file" in deploy(str(fifo), "--tenant", "acme", "--app", "counter")
    assert not AppRelease.objects.filter(app=counter, version=2).exists()


def test_deploy_app_create_refuses_a_slug_no_url_can_name(world, tmp_path: Path) -> None:
    good = tmp_path / "main.py"
    good.write_text(COUNTER)
    assert "app's slug 'bad slug!' is refused" in deploy(
        str(good), "--tenant", "acme", "--app", "bad slug!", "--create"
    )
    assert "at most 50 characters" in deploy(str(good), "--tenant", "acme", "--app", "x" * 80, "--create")
    assert "no such file" in deploy(
        str(tmp_path / "gone.py"), "--tenant", "acme", "--app", "fresh", "--create"
    )
    assert not App.objects.for_tenant(world.acme).filter(slug__in=["bad slug!", "x" * 80, "fresh"]).exists()


def test_a_page_that_fails_when_shown_is_a_503_and_a_line_in_the_apps_log(
    client: Client, world, counter: App
) -> None:
    # Valid at validation, a number where the page loops over a list in this process.
    flag = "DASHBOARDS_TEST_BREAK_PAGE"
    source = (
        f"import os\ninitial_state = {{'n': 3 if os.environ.get('{flag}') else [1]}}\n"
        "page = '{% for x in n %}{{ x }}{% endfor %}'\n"
    )
    services.release_activate(
        release=services.release_create(app=counter, files={"main.py": source}, author=None)
    )
    os.environ[flag] = "1"
    try:
        client.force_login(world.avery)
        response = client.get("/t/acme/apps/counter/")
    finally:
        del os.environ[flag]
    assert response.status_code == 503 and "failed to show" in response.text
    entry = AppLogEntry.objects.filter(app=counter, message__contains="the page failed to render").get()
    assert "TypeError" in entry.message
    assert client.get("/t/acme/").status_code == 200


def test_a_folder_deploy_leaves_out_hidden_files_an_editor_or_a_system_left(
    world, counter: App, tmp_path: Path
) -> None:
    from dashboards.hosting.uploads import release_files_from_folder

    (tmp_path / "main.py").write_text(COUNTER)
    (tmp_path / ".#main.py").symlink_to("alice@laptop.1234:1700000000")  # Emacs's lock: a dangling link
    (tmp_path / "._main.py").write_bytes(b"\x00\x05\x16\x07")  # macOS's resource fork
    assert set(release_files_from_folder(tmp_path)) == {"main.py"}


def test_the_log_pages_refresh_stops_and_says_so_once_signed_out_or_shut_out(
    client: Client, world, counter: App
) -> None:
    """The sign-in redirect was followed, and the whole login page swapped into the log's table."""
    poll = {"headers": {"HX-Request": "true"}}
    answer = client.get(f"/admin/hosting/app/{counter.pk}/log/", **poll)
    assert answer.status_code == 286  # htmx stops polling
    assert "You are signed out, so this log no longer refreshes." in answer.text
    assert "<html" not in answer.text and "/admin/login/?next=%2Fadmin%2Fhosting%2Fapp%2F" in answer.text
    assert client.get(f"/admin/hosting/app/{counter.pk}/log/").status_code == 302  # the page: sign in
    client.force_login(world.gabe)  # a developer of Globex: not this app's
    answer = client.get(f"/admin/hosting/app/{counter.pk}/log/", **poll)
    assert answer.status_code == 286 and "no longer have access" in answer.text
    assert client.get(f"/admin/hosting/app/{counter.pk}/log/").status_code == 404


def test_a_folder_or_zip_without_main_py_is_refused_before_anything_is_stored(
    world, counter: App, tmp_path: Path
) -> None:
    """The wrong folder: a release was stored from its files, its report naming one's syntax error."""
    (tmp_path / "helpers.py").write_text("def broken(:\n")
    (tmp_path / "other.py").write_text("x = 1\n")
    with pytest.raises(ValidationError, match=r"has no main\.py: a release is main\.py"):
        uploads.release_files_from_folder(tmp_path)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("project/helpers.py", "x = 1\n")
    with pytest.raises(ValidationError, match=r"holds no main\.py"):
        uploads.release_files_from_upload("project.zip", archive.getvalue())
    with pytest.raises(CommandError, match=r"no main\.py"):
        call_command("deploy_app", str(tmp_path), tenant="acme", app="counter")
    assert AppRelease.objects.filter(app=counter).count() == 1
