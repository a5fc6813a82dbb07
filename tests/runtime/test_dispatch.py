"""The dispatcher is the one place that decides whether an event reaches a handler."""

from __future__ import annotations

import pytest

from dashboards.runtime.dispatch import DispatchError, route_event
from dashboards.runtime.loader import load_app, unload

SOURCE = """
page = "{% button 'x' on_click='increment' %}"

def increment(state):
    pass

def export(state, payload):
    pass

def _secret(state):
    pass

callbacks = {"sales:export": export}
"""


@pytest.fixture(scope="module")
def app():
    loaded = load_app("dispatch-test", {"main.py": SOURCE})
    yield loaded
    unload("dispatch-test")


def test_component_event_reaches_its_public_handler(app) -> None:
    route = route_event({"event": "ui:click", "handler": "increment", "target": "c1", "payload": None}, app)
    assert (route.handler, route.event, route.target) == ("increment", "ui:click", "c1")


def test_app_event_reaches_its_callback(app) -> None:
    route = route_event({"event": "sales:export", "payload": {"format": "csv"}}, app)
    assert route.handler == "export" and route.payload == {"format": "csv"}


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("not an object", "malformed"),
        ({"handler": "increment"}, "malformed"),
        ({"event": "click", "handler": "increment"}, "namespace:event-name"),
        ({"event": "ui:click"}, "names no handler"),
        ({"event": "ui:click", "handler": "_secret"}, "unknown handler '_secret'"),
        ({"event": "ui:click", "handler": "__import__"}, "unknown handler"),
        ({"event": "ui:click", "handler": "nope"}, "unknown handler 'nope'"),
        ({"event": "ui:click", "handler": "increment", "target": 5}, "target must be a string"),
        ({"event": "dashboards:toast"}, "not an event the browser may send"),
        ({"event": "sales:unknown"}, "no handler for 'sales:unknown'"),
    ],
)
def test_refused_events(app, message, error: str) -> None:
    with pytest.raises(DispatchError, match=error):
        route_event(message, app)


def test_a_handler_of_another_release_is_unknown(app) -> None:
    load_app("dispatch-other", {"main.py": "page = 'x'\ndef only_there(state):\n    pass\n"})
    try:
        with pytest.raises(DispatchError, match="unknown handler"):
            route_event({"event": "ui:click", "handler": "only_there"}, app)
    finally:
        unload("dispatch-other")
