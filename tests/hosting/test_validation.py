"""Release validation runs in a separate process, with a time limit and no platform secrets."""

from __future__ import annotations

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
        ({"main.py": "page = \"{% button 'x' on_click='nope' %}\"\n"}, "page", None),
        ({"main.py": "page = '{% for %}'\n"}, "page", None),
        (
            {"main.py": "page = 'x'\ndef f(state):\n    pass\ncallbacks = {'ui:click': f}\n"},
            "callbacks",
            None,
        ),
        ({"helpers.py": "x = 1"}, "missing_entry", None),
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


def test_a_report_the_app_garbled_is_a_crash_not_an_exception() -> None:
    source = "import os, sys\nopen(sys.argv[2], 'w').write('{not json')\nos._exit(0)\n"
    report = validate_release_files({"main.py": source})
    assert kinds(report) == ["crash"] and "report cannot be read" in report["problems"][0]["message"]
    forged = (
        "import json, os, sys\nopen(sys.argv[2], 'w').write(json.dumps({'ok': True, 'problems': [1]}))\n"
        "os._exit(0)\n"
    )
    assert kinds(validate_release_files({"main.py": forged})) == ["crash"]


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
    except (FileNotFoundError, IndexError):
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
        ('{% include "nope.html" %}', "TemplateDoesNotExist"),
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
