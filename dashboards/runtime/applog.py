"""Where an app's prints and log records go while one of its handlers runs: that app's own log."""

from __future__ import annotations

import builtins
import contextvars
import io
import logging
from typing import Any

from dashboards.runtime.loader_names import APPS_PACKAGE

# The lines of the handler run in progress (set per run, so concurrent runs never mix).
current_output: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar(
    "app_output", default=None
)
logger = logging.getLogger(APPS_PACKAGE)


def app_print(
    *args: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
) -> None:
    """The ``print`` an app's modules see: its lines land in the app's log."""
    sink = current_output.get()
    if sink is None or file is not None:
        builtins.print(*args, sep=sep, end=end, file=file, flush=flush)
        return
    buffer = io.StringIO()
    builtins.print(*args, sep=sep, end=end, file=buffer)
    sink.extend(("info", line) for line in buffer.getvalue().splitlines() if line.strip())


class AppLogHandler(logging.Handler):
    """Records of the apps' loggers (``logging.getLogger(__name__)`` in app code)."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = current_output.get()
        if sink is not None:
            sink.append((record.levelname.lower(), self.format(record)))


def install_log_handler() -> None:
    if not any(isinstance(h, AppLogHandler) for h in logger.handlers):
        logger.addHandler(AppLogHandler())
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
