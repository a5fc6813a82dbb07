"""A time limit on rendering an app's page, checked at each turn of its loops.

A page is app code, and its loops run over state: ``{% for a in rows %}{% for b in rows %}`` over
ten thousand rows is a hundred million turns. Components render on the event loop every tab of
the process shares, so a render gets ``RENDER_ON_LOOP_SECONDS`` there; one that needs longer is
started again on a thread of its own (``render_off_loop``), where the GIL lets the loop go on
serving the other tabs, with the app's handler time limit. Past that it is refused like any
state the page cannot show. A render of a large input (``RENDER_ON_LOOP_INPUT_BYTES``) starts on
a thread at once: a single filter or component call on a large value runs to its end.

The limit is cooperative: it is checked at each item of ``{% for %}`` and ``{% repeat %}``, and
before each component. What runs between two checks is one turn of a loop, bounded by the size
of the state (2 MiB) and of the template.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

# Longer than any component of a small state takes to render (a table stops at 1,000 rows), far
# shorter than what the other tabs of the process would notice as a stall.
RENDER_ON_LOOP_SECONDS = 0.05
# Past this much input (the state's encoded size plus the page's source), a render goes straight
# to a thread: one call on a large value cannot be stopped between two checks, and some take
# about 2 µs a character (`{% markdown %}` of a 2 MB string: 2.3 s; `|unordered_list`: 3.7 s).
RENDER_ON_LOOP_INPUT_BYTES = 32 * 1024
# Renders that outgrew the loop; each ends within its app's handler time limit.
RENDER_THREADS = 2

# (the monotonic time it ends, its length) of the render under way in this context
_deadline: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "render_deadline", default=None
)
_render_pool: ThreadPoolExecutor | None = None
T = TypeVar("T")


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


def render_off_loop(seconds: float, render: Callable[[], T]) -> Any:
    """``render`` on a render thread, within ``seconds``: an awaitable of its result."""
    import asyncio  # noqa: PLC0415 - only the consumers' side needs it

    global _render_pool  # noqa: PLW0603 - one pool per process, made on first need
    if _render_pool is None:
        _render_pool = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="page-render")

    def within_limit() -> T:
        with render_deadline(seconds):
            return render()

    return asyncio.get_running_loop().run_in_executor(_render_pool, within_limit)
