"""Where an app's prints and log records go while one of its handlers runs: that app's own log."""

from __future__ import annotations

import builtins
import contextvars
import io
import logging
import sys
from typing import Any

from dashboards.runtime.loader_names import APPS_PACKAGE

# The lines of the handler run in progress (set per run, so concurrent runs never mix).
current_output: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar(
    "app_output", default=None
)
logger = logging.getLogger(APPS_PACKAGE)
APP_FILE_PREFIX = "<app r"  # the file name app modules are compiled with (loader.py)


def app_print(
    *args: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
) -> None:
    """The ``print`` an app's modules see: its lines land in the app's log."""
    sink = current_output.get()
    if sink is None or (file is not None and file is not sys.stdout and file is not sys.stderr):
        builtins.print(*args, sep=sep, end=end, file=file, flush=flush)  # a file of its own
        return
    buffer = io.StringIO()
    builtins.print(*args, sep=sep, end=end, file=buffer)
    level = "warning" if file is sys.stderr else "info"
    sink.extend((level, line) for line in buffer.getvalue().splitlines() if line.strip())


class AppLogHandler(logging.Handler):
    """Records of the apps' loggers (``logging.getLogger(__name__)`` in app code)."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = current_output.get()
        if sink is not None:
            sink.append((record.levelname.lower(), self.format(record)))


class AppCodeRecords(AppLogHandler):
    """Records app code sends to other loggers (``logging.warning(...)``, ``getLogger("x")``):
    told apart by the file of the call, which is the app's own; the platform's records, made
    while an app's code runs, stay in the server's log."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.pathname.startswith(APP_FILE_PREFIX) and not record.name.startswith(APPS_PACKAGE):
            super().emit(record)


def install_log_handler() -> None:
    if not any(isinstance(h, AppLogHandler) for h in logger.handlers):
        logger.addHandler(AppLogHandler())
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    root = logging.getLogger()
    if not any(isinstance(h, AppCodeRecords) for h in root.handlers):
        root.addHandler(AppCodeRecords(level=logging.INFO))
