from __future__ import annotations

import pytest

from dashboards.runtime.injection import InjectionError, handler_signature


def test_arguments_by_name_in_any_order_and_subset() -> None:
    def handler(payload, state):
        pass

    signature = handler_signature("handler", handler)
    assert signature.arguments({"state": "S", "payload": "P", "context": "C"}) == {
        "payload": "P",
        "state": "S",
    }


def test_pywry_form() -> None:
    def on_click(data, event_type, label):
        pass

    arguments = handler_signature("on_click", on_click).arguments(
        {"payload": {"points": []}, "event": "plotly:click", "target": "c3"}
    )
    assert arguments == {"data": {"points": []}, "event_type": "plotly:click", "label": "c3"}


def test_no_parameters_and_defaults() -> None:
    def ping():
        pass

    def with_default(state, retries=3):
        pass

    assert handler_signature("ping", ping).parameters == ()
    assert handler_signature("with_default", with_default).parameters == ("state",)


async def test_async_handlers_are_recognised() -> None:
    async def fetch(state):
        pass

    assert handler_signature("fetch", fetch).is_async


@pytest.mark.parametrize(
    "source",
    ["def h(state, user): pass", "def h(*args): pass", "def h(**kwargs): pass", "def h(state, /): pass"],
)
def test_parameters_that_cannot_be_injected(source: str) -> None:
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102
    with pytest.raises(InjectionError, match="handler 'h'"):
        handler_signature("h", namespace["h"])
