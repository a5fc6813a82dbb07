"""A release's import in a server process: once, on a thread of its own, waited for up to a limit."""

from __future__ import annotations

import time

import pytest

from dashboards.runtime import limits
from dashboards.runtime.executor import InProcessExecutor
from dashboards.runtime.loader import AppLoadError

PAGE = '''page = """{% metric n label="N" id="n" %}"""\ninitial_state = {"n": 0}\n'''
SLOW = "import time\ntime.sleep(2)\n" + PAGE  # a module that hangs at import (for a while)
QUICK = PAGE


@pytest.fixture
def executor():
    made = InProcessExecutor()
    yield made
    deadline = time.monotonic() + 5
    while made._importing and time.monotonic() < deadline:  # let a slow import end before unloading
        time.sleep(0.05)
    for key in made.loaded_keys():
        made.forget(key)


def test_an_import_that_hangs_fails_its_callers_at_the_limit_and_holds_up_no_other_release(
    executor, monkeypatch
) -> None:
    monkeypatch.setattr(limits, "RELEASE_IMPORT_TIMEOUT_SECONDS", 0.3)
    started = time.monotonic()
    with pytest.raises(AppLoadError, match=r"did not finish importing within 0.3 s"):
        executor.load("test-import-slow", {"main.py": SLOW})
    assert time.monotonic() - started < 1.5
    # Meanwhile another release loads at once: no lock is held while a release imports.
    quick_started = time.monotonic()
    assert executor.load("test-import-quick", {"main.py": QUICK}).key == "test-import-quick"
    assert time.monotonic() - quick_started < 1.0
    # A later caller of the slow one is told at once: the limit counts from the import's start.
    again = time.monotonic()
    with pytest.raises(AppLoadError):
        executor.load("test-import-slow", {"main.py": SLOW})
    assert time.monotonic() - again < 0.2
    # The import goes on in its thread; once it ends, the release is there for the next caller.
    deadline = time.monotonic() + 5
    while executor.loaded("test-import-slow") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert executor.load("test-import-slow", {"main.py": SLOW}).key == "test-import-slow"


def test_a_broken_release_is_reported_and_tried_again_by_the_next_caller(executor) -> None:
    for _ in range(2):
        with pytest.raises(AppLoadError, match="ZeroDivisionError"):
            executor.load("test-import-broken", {"main.py": "1 / 0\n" + PAGE})
    assert executor.loaded("test-import-broken") is None
