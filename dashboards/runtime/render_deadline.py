"""A time limit on rendering an app's page, checked at each turn of its loops.

A page is app code, and its loops run over state: ``{% for a in rows %}{% for b in rows %}`` over
ten thousand rows is a hundred million turns. Components render on the event loop every tab of
the process shares, so a render gets ``RENDER_ON_LOOP_SECONDS`` there; one that needs longer is
started again on one of the app's handler threads, through the executor like the app's other
code (``AppSession.render``), where the GIL lets the loop go on serving the other tabs, with the
app's handler time limit. Past that it is refused like any state the page cannot show. A render
of a large input (``RENDER_ON_LOOP_INPUT_BYTES``) starts on a thread at once: a single filter or
component call on a large value runs to its end. The limits are in limits.py.

The limit is cooperative: it is checked at each item of ``{% for %}`` and ``{% repeat %}``, and
before each component. What runs between two checks is one turn of a loop, bounded by the size
of the state (2 MiB) and of the template.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# (the monotonic time it ends, its length) of the render under way in this context
_deadline: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "render_deadline", default=None
)


class RenderTooSlow(Exception):
    """The render passed its time limit; nothing it produced is used."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"the page took longer than {seconds:g} s to render")


@contextmanager
def render_deadline(seconds: float) -> Iterator[None]:
    """Renders inside the block raise RenderTooSlow once ``seconds`` have passed."""
    token = _deadline.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_render_deadline() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline[0]:
        raise RenderTooSlow(deadline[1])


class CheckedSequence:
    """What ``{% for %}`` iterates: the sequence as it was, with the deadline checked at each item."""

    __slots__ = ("values",)

    def __init__(self, values: Any) -> None:
        self.values = values if hasattr(values, "__len__") else list(values)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[Any]:
        for item in self.values:
            check_render_deadline()
            yield item

    def __reversed__(self) -> Iterator[Any]:
        for item in reversed(self.values):
            check_render_deadline()
            yield item
