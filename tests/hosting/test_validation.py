"""Release validation runs in a separate process, with a time limit and no platform secrets."""

from __future__ import annotations

import json
import os
import signal
import time
import tracemalloc
from pathlib import Path

import pytest

from dashboards.hosting.validation import validate_release_files
from dashboards.runtime.limits import VALIDATION_MEMORY_BYTES

VALID = """
import os
print("imported")
leaked = os.environ.get("SECRET_KEY")
initial_state = {"count": 0, "leak": leaked}
page = "{% text count %}{% button 'Add' on_click='increment' %}"

def increment(state):
    state.count += 1

def _helper():
    pass
"""


def kinds(report: dict) -> list[str]:
    return [problem["kind"] for problem in report["problems"]]


def test_a_valid_release_lists_handlers_and_state_keys_and_sees_no_secret() -> None:
    report = validate_release_files({"main.py": VALID})
    assert report["ok"], report
    assert report["handlers"] == ["increment"]
    assert report["state_keys"] == ["count", "leak"]


@pytest.mark.parametrize(
    ("files", "kind", "line"),
    [
        ({"main.py": "x = 1\ndef broken(:\n    pass\n"}, "syntax", 2),
        ({"main.py": "import not_a_module_anywhere\n"}, "import", 1),
        ({"main.py": "x = 1\nraise RuntimeError('boom')\n"}, "import_error", 2),
        ({"main.py": "def h(state):\n    pass\n"}, "page_missing", None),
        (
            {"main.py": "page = \"{% button 'x' on_click='h' %}\"\ndef h(state, user):\n    pass\n"},
            "handler_parameters",
            2,
        ),
        ({"main.py": "page = 'x'\ninitial_state = {'when': object()}\n"}, "state", None),
        (
            {"main.py": "page = '{% table rows id=\"rows\" %}'\ninitial_state = {'rows': 'abc'}\n"},
            "page",
            None,
        ),
        ({"main.py": "page = \"{% button 'x' on_click='nope' %}\"\n"}, "page", None),
        ({"main.py": "page = '{% for %}'\n"}, "page", None),
        ({"main.py": "page = 'a\\nb\\n{% if %}'\n"}, "page", 3),  # the line in the page, in debug or not
        (
            {"main.py": "page = 'x'\ndef f(state):\n    pass\ncallbacks = {'ui:click': f}\n"},
            "callbacks",
            None,
        ),
        ({"helpers.py": "x = 1"}, "missing_entry", None),
        ({"main.py": "page = 'x'\nx = " + "+".join(["1"] * 200_000) + "\n"}, "syntax", None),  # too deep
    ],
)
def test_problems_are_reported_with_lines(files: dict, kind: str, line: int | None) -> None:
    report = validate_release_files(files)
    assert not report["ok"]
    assert kind in kinds(report), report
    if line is not None:
        problem = next(p for p in report["problems"] if p["kind"] == kind)
        assert problem["line"] == line


def test_a_release_that_never_finishes_importing_times_out() -> None:
    report = validate_release_files({"main.py": "while True:\n    pass\n"}, timeout=2)
    assert kinds(report) == ["timeout"]


def test_modules_and_init_handlers() -> None:
    files = {
        "main.py": "from dashboards.sdk import init_handlers\nimport dashboards_apps\nfrom . import extra\n"
        "init_handlers(extra)\npage = \"{% button 'x' on_click='from_extra' %}\"\n",
        "extra.py": "def from_extra(state):\n    state.x = 1\n",
    }
    report = validate_release_files(files)
    assert report["ok"], report
    assert report["handlers"] == ["from_extra"]


def test_two_handlers_of_one_name_in_two_modules_are_a_problem() -> None:
    """The page ran whichever was registered last, and the release was valid."""
    files = {
        "main.py": "from dashboards.sdk import init_handlers\nfrom . import tools\ninit_handlers(tools)\n"
        "page = \"{% button 'x' on_click='go' %}\"\ndef go(state):\n    state.x = 1\n",
        "tools.py": "def go(state):\n    state.x = 2\n",
    }
    report = validate_release_files(files)
    assert not report["ok"]
    problem = next(p for p in report["problems"] if p["kind"] == "handler_name")
    assert problem["message"] == "two handlers are named go: in main and in tools (init_handlers); rename one"
    assert (problem["file"], problem["line"]) == ("tools.py", 1)


def test_an_app_that_exits_at_import_is_reported_with_its_line() -> None:
    report = validate_release_files({"main.py": "import sys\nsys.exit(3)\n"})
    assert kinds(report) == ["import_error"]
    assert report["problems"][0]["message"] == "the app must not exit: SystemExit(3)"
    assert report["problems"][0]["line"] == 2


def test_an_app_that_ends_its_process_at_import_is_a_crash_that_says_so() -> None:
    report = validate_release_files({"main.py": "import os\nprint('bye')\nos._exit(0)\n"})
    assert kinds(report) == ["crash"]
    assert (
        "exited with status 0 before its report (os._exit() in the app?): bye"
        in report["problems"][0]["message"]
    )


def _written_report(data: str) -> str:
    """App code that hands ``data`` over the report pipe itself, framed like the validator's, and ends."""
    return (
        "import os, sys\n"
        f"data = {data!r}.encode()\n"
        "os.write(int(sys.argv[2]), len(data).to_bytes(4, 'big') + data)\n"
        "os._exit(0)\n"
    )


_OK = {"ok": True, "problems": [], "handlers": [], "callbacks": [], "state_keys": [], "on_event": [],
       "broadcast_on_event": 0}  # fmt: skip
_FILTER = {"entity_type": "scenario", "operation": None, "entity_id": None, "attribute_name": None}


@pytest.mark.parametrize(
    "data",
    [
        "{not json",
        json.dumps({"ok": True, "problems": [1]}),
        json.dumps({"ok": True, "problems": [], "handlers": [], "state_keys": [], "on_event": [1]}),
        json.dumps({**_OK, "on_event": [1]}),
        json.dumps({**_OK, "on_event": [{**_FILTER, "entity_type": "nope"}]}),
        json.dumps({**_OK, "on_event": [{**_FILTER, "extra": 1}]}),
        json.dumps({**_OK, "handlers": [7]}),
        json.dumps({**_OK, "callbacks": "ui:x"}),
        json.dumps({**_OK, "broadcast_on_event": True}),
        json.dumps({**_OK, "problems": [{"kind": "page", "message": "x", "file": None, "line": None}]}),
        json.dumps({**_OK, "surprise": 1}),
    ],
)
def test_a_report_the_app_wrote_itself_and_malformed_is_a_clear_problem_not_an_exception(data: str) -> None:
    report = validate_release_files({"main.py": _written_report(data)})
    assert not report["ok"]
    assert kinds(report) == ["crash"]
    assert report["problems"][0]["message"].startswith("the validation report was malformed"), report


def test_an_app_cannot_replace_its_report_after_the_validator_wrote_it() -> None:
    forged = json.dumps({**_OK, "on_event": [_FILTER]})
    source = (
        "import atexit, os, sys, threading, time\n"
        "fd, path = int(sys.argv[2]), sys.argv[2]\n"
        f"data = {forged!r}.encode()\n"
        "def forge():\n"
        "    try:\n"
        "        os.write(fd, len(data).to_bytes(4, 'big') + data)\n"
        "    except OSError:\n"
        "        pass\n"
        "atexit.register(forge)\n"
        "threading.Thread(target=lambda: (time.sleep(0.5), forge())).start()\n"
    )  # no page: invalid, whatever the app writes after its import
    report = validate_release_files({"main.py": source})
    assert kinds(report) == ["page_missing"], report


def test_a_valid_app_that_starts_a_thread_at_import_is_valid_and_quick() -> None:
    source = (
        "import threading, time\npage = '{% text x %}'\ninitial_state = {'x': 1}\n"
        "threading.Thread(target=lambda: time.sleep(1000)).start()\n"
    )
    started = time.monotonic()
    report = validate_release_files({"main.py": source}, timeout=10)
    assert report["ok"], report
    assert time.monotonic() - started < 5


def test_a_release_importing_its_own_module_absolutely_is_told_how_to_import_it() -> None:
    report = validate_release_files({"main.py": "import helpers\n", "helpers.py": "x = 1\n"})
    assert kinds(report) == ["import"]
    assert "`from . import helpers`" in report["problems"][0]["message"]
    other = validate_release_files({"main.py": "import not_in_the_release_zz\n"})
    assert "from ." not in other["problems"][0]["message"]


def test_an_app_flooding_its_output_at_import_costs_the_web_process_no_memory() -> None:
    source = "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1_000_000)\npage = 'x'\n"
    tracemalloc.start()
    try:
        report = validate_release_files({"main.py": source})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report["ok"], report
    assert peak < 10_000_000  # the 100 MB printed were read and dropped, never held


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):  # gone, or going while it was read
        return False
    return state not in ("Z", "X")  # a zombie is dead: only its exit status is left


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_process_started_at_import_never_outlives_validation(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    source = (
        f"import os, time\nif os.fork() == 0:\n    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n    os._exit(0)\npage = 'x'\n"
    )
    started = time.monotonic()
    report = validate_release_files({"main.py": source}, timeout=15)
    assert report["ok"], report  # it used to wait for the fork's end of the pipe: a false timeout
    assert time.monotonic() - started < 10
    deadline = time.monotonic() + 5
    while _alive(int(pid_file.read_text())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(pid_file.read_text()))


def test_an_import_allocating_past_the_memory_limit_is_a_clear_problem() -> None:
    report = validate_release_files({"main.py": f"data = bytearray({VALIDATION_MEMORY_BYTES + 2**30})\n"})
    assert kinds(report) == ["import_error"]
    assert report["problems"][0]["message"].startswith("MemoryError: the app needs more than the 2048 MiB")


@pytest.mark.parametrize(
    ("page", "error"),
    [
        ("{% for x in n %}{{ x }}{% endfor %}", "TypeError"),
        ("{{ n|divisibleby:0 }}", "ZeroDivisionError"),
    ],
)
def test_a_page_that_fails_when_shown_is_invalid(page: str, error: str) -> None:
    report = validate_release_files({"main.py": f"initial_state = {{'n': 3}}\npage = {page!r}\n"})
    assert kinds(report) == ["page"]
    assert f"cannot be shown with the initial state: {error}" in report["problems"][0]["message"]


def test_a_page_naming_a_platform_url_is_left_to_the_web_process() -> None:
    assert validate_release_files({"main.py": "page = '{% url \"home\" %}'\n"})["ok"]


def test_a_page_too_slow_to_show_its_initial_state_is_reported() -> None:
    source = (
        'initial_state = {"rows": list(range(5000))}\n'
        'page = """{% for a in rows %}{% for b in rows %}{% endfor %}{% endfor %}"""\n'
    )
    report = validate_release_files({"main.py": source})
    assert not report["ok"]
    assert "the page took longer than 5 s to render" in report["problems"][0]["message"]


def _escaping_app(tmp_path: Path, *, hang: bool) -> tuple[str, Path, Path]:
    """An app whose fork leaves the validator's session (os.setsid()) and writes a file every 0.2 s."""
    pid_file, beats = tmp_path / "pid", tmp_path / "beats"
    source = (
        "import os, time\npage = '{% text x %}'\ninitial_state = {'x': 1}\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"  # a grandchild, orphaned at once: reparented away from its tree
        f"        open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "        while True:\n"
        f"            open({str(beats)!r}, 'a').write('.')\n"
        "            time.sleep(0.2)\n"
        "    os._exit(0)\n"
        "deadline = time.monotonic() + 5\n"
        f"while not os.path.exists({str(pid_file)!r}) and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n" + ("while True:\n    pass\n" if hang else "")
    )
    return source, pid_file, beats


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("hang", [False, True], ids=["valid", "timeout"])
def test_a_process_the_app_starts_in_a_session_of_its_own_ends_with_validation(
    tmp_path: Path, hang: bool
) -> None:
    source, pid_file, beats = _escaping_app(tmp_path, hang=hang)
    report = validate_release_files({"main.py": source}, timeout=4 if hang else 15)
    assert kinds(report) == (["timeout"] if hang else []), report
    pid = int(pid_file.read_text())
    try:
        deadline = time.monotonic() + 2
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
        size = beats.stat().st_size
        time.sleep(1)
        assert beats.stat().st_size == size  # nothing writes any more
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


CALLER_KILLED_MIDWAY = """
import sys
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboards.config.settings")
django.setup()
from dashboards.hosting.validation import validate_release_files
validate_release_files({"main.py": open(sys.argv[1]).read()}, timeout=600)
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_validation_whose_caller_is_killed_ends_with_it(tmp_path: Path) -> None:
    """A `deploy_app` killed by its CI's timeout, or a web process killed mid-deploy, sends the
    validator nothing: the kernel's parent-death signal ends its supervisor, which ends the rest."""
    import subprocess
    import sys

    pid_file = tmp_path / "pid"
    app = tmp_path / "app.py"
    app.write_text(
        f"import os, time\nopen({str(pid_file) + '.home'!r}, 'w').write(os.environ['HOME'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)\n"
    )
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER_KILLED_MIDWAY, str(app)], env={**os.environ, "DEBUG": "true"}
    )
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        validator = int(pid_file.read_text())
        caller.kill()  # SIGKILL: no finally of its runs, no signal sent to the validator
        caller.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(validator) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(validator)
        folder = Path((tmp_path / "pid.home").read_text())  # held the release's source
        assert folder.name.startswith("dashboards-validate-")
        deadline = time.monotonic() + 5
        while folder.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not folder.exists()
    finally:
        if caller.poll() is None:
            caller.kill()
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_validations_past_the_processs_share_wait_and_then_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from dashboards.hosting import validation

    monkeypatch.setattr(validation, "_validations", threading.BoundedSemaphore(1))
    validation._validations.acquire()  # another deploy's validation, running
    report = validation.validate_release_files({"main.py": "page = 'busy'\n"}, timeout=0.3)
    assert report["problems"][0]["message"] == "other releases were being validated for 0.3 s: deploy again"
    validation._validations.release()
    assert validation.validate_release_files({"main.py": "page = 'busy'\n"})["ok"]  # not kept as the answer


def test_an_initial_state_value_that_cannot_be_copied_is_named() -> None:
    report = validate_release_files(
        {"main.py": "import threading\npage = 'x'\ninitial_state = {'ok': 1, 'lock': threading.Lock()}\n"}
    )
    assert not report["ok"]
    assert "state key 'lock' cannot be copied for each session" in report["problems"][0]["message"]


@pytest.mark.parametrize("importing", ["from . import analytics\n", "from .analytics import pick\n"])
def test_main_py_deployed_without_its_sibling_modules_says_to_deploy_the_folder(importing) -> None:
    """The message named the platform's internal package ('dashboards_apps.r...') and nothing else."""
    report = validate_release_files({"main.py": importing + "page = '{% text x %}'\n"})
    assert kinds(report) == ["import"]
    message = report["problems"][0]["message"]
    assert message.startswith("analytics.py is not part of this release: deploy the app's folder or a .zip")
    assert "dashboards_apps" not in message
