"""Process-level tuning of a web server process, applied once by the ASGI entry point.

Measured with bench/events_fanout.py (docs/performance.md): these are costs paid per WebSocket
frame or per connection that do no work for us.
"""

from __future__ import annotations

import gc
import logging
import os
import pprint
import time
from typing import Any

logger = logging.getLogger(__name__)


GC_THRESHOLDS = (50_000, 20, 20)  # Python's defaults: (700, 10, 10)


class _PrettyWhenShown:
    """pformat's text, made only if a log line shows it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _plain(value: Any, *_args: Any, **_kwargs: Any) -> Any:
    return value


def _lazy_pformat(value: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(value, list) and not args and not kwargs:  # the connection-settings debug line
        return _PrettyWhenShown(value)
    return pprint.pformat(value, *args, **kwargs)


def quiet_autobahn_debug_arguments() -> None:
    """Autobahn builds the arguments of its debug log lines even when debug logging is off.

    Every frame sent colours three values for a ``log.debug`` nobody reads (about 25 µs a frame:
    25 ms for one event reaching 1,000 tabs), and every connection pretty-prints its settings
    (about 0.6 ms). The highlighters become pass-throughs (debug lines lose their colours, and the
    values are still formatted if a line is shown); the settings are pretty-printed when shown.
    """
    from autobahn.twisted import websocket as twisted_websocket  # noqa: PLC0415 - server only
    from autobahn.websocket import protocol  # noqa: PLC0415

    for module in (protocol, twisted_websocket):
        for name in ("hltype", "hlval"):
            if hasattr(module, name):
                setattr(module, name, _plain)
    if hasattr(protocol, "pformat"):
        protocol.pformat = _lazy_pformat  # type: ignore[assignment]


def freeze_startup_objects() -> None:
    """Keep the objects of start-up (Django, the apps, the routes) out of every full collection.

    With a thousand open sessions a full collection walked 350,000 objects and paused the loop for
    230 to 400 ms, collecting nothing; most of them were start-up objects that live forever.
    """
    gc.collect()
    gc.freeze()
    # Fewer young collections: objects of one fan-out (futures, frames, contexts) die by reference
    # counting before a collection can promote them, so old generations grow slowly and full
    # collections, which walk every open session's objects, come rarely.
    gc.set_threshold(*GC_THRESHOLDS)


def log_slow_collections(threshold_ms: float) -> None:
    """Log every garbage collection longer than the threshold (``DASHBOARDS_LOG_GC_MS``): a
    diagnostic for pauses that hold up every tab of the process."""
    started: list[float] = [0.0]

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        took = (time.perf_counter() - started[0]) * 1000
        if took >= threshold_ms:
            logger.warning("gc: generation %d took %.1f ms (%d collected, %d young objects left)",
                           info["generation"], took, info["collected"], sum(gc.get_count()))  # fmt: skip

    gc.callbacks.append(watch)


def tune_server_process() -> None:
    quiet_autobahn_debug_arguments()
    freeze_startup_objects()
    if os.environ.get("DASHBOARDS_LOG_GC_MS"):
        log_slow_collections(float(os.environ["DASHBOARDS_LOG_GC_MS"]))
