"""Release validation runs in a separate process, with a time limit and no platform secrets."""

from __future__ import annotations

import pytest

from dashboards.hosting.validation import validate_release_files

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
