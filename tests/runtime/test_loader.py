"""Which functions of a release the browser can reach."""

from __future__ import annotations

import uuid

import pytest

from dashboards.runtime.loader import load_app, unload

PAGE = "page = \"{% button 'Go' on_click='go' %}\"\n"


def handlers_of(files: dict[str, str]) -> list[str]:
    key = f"loader-{uuid.uuid4().hex[:8]}"
    try:
        return sorted(load_app(key, files).handlers)
    finally:
        unload(key)


def test_a_helper_imported_from_a_sibling_module_is_no_handler() -> None:
    files = {
        "main.py": "from .tools import wipe_everything\n" + PAGE + "def go(state):\n    state.x = 1\n",
        "tools.py": "def wipe_everything(state):\n    state.clear()\n",
    }
    assert handlers_of(files) == ["go"]


def test_init_handlers_still_exposes_a_sibling_modules_functions() -> None:
    files = {
        "main.py": "from dashboards.sdk import init_handlers\nfrom . import tools\ninit_handlers(tools)\n"
        + PAGE
        + "def go(state):\n    state.x = 1\n",
        "tools.py": "def reset(state):\n    state.x = 0\n",
    }
    assert handlers_of(files) == ["go", "reset"]


def test_init_handlers_given_a_module_outside_the_release_says_so() -> None:
    """It was ignored: the developer's functions were silently not handlers."""
    from dashboards.runtime.loader import AppLoadError

    files = {"main.py": "import json\nfrom dashboards.sdk import init_handlers\ninit_handlers(json)\n" + PAGE
             + "def go(state):\n    state.x = 1\n"}  # fmt: skip
    with pytest.raises(AppLoadError, match="init_handlers: json is not a module of this release"):
        handlers_of(files)


def test_initial_state_is_called_by_the_platform_only() -> None:
    files = {"main.py": PAGE + "def initial_state(session):\n    return {}\ndef go(state):\n    pass\n"}
    assert handlers_of(files) == ["go"]


def test_chart_events_in_callbacks_are_refused_with_the_way_that_works() -> None:
    from dashboards.runtime.loader import AppLoadError

    files = {"main.py": PAGE + "def go(state):\n    pass\ncallbacks = {'plotly:click': go}\n"}
    with pytest.raises(AppLoadError) as refused:
        handlers_of(files)
    assert 'on_click="handler"' in str(refused.value.problems[0].message)
