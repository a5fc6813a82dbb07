"""Where an app's prints and log records go while one of its handlers runs: that app's own log."""

from __future__ import annotations

import builtins
import contextvars
import io
import logging
import sys
from typing import Any

from dashboards.runtime.limits import APP_LOG_KEEP_LINES
from dashboards.runtime.loader_names import APPS_PACKAGE


class RunOutput(list[tuple[str, str]]):
    """The lines one run of app code printed or logged: at most the newest APP_LOG_KEEP_LINES
    (the app's log keeps no more), after a line saying how many earlier ones were left out.

    A job printing in a loop once held every line in memory, and writing them all before its end
    outlasted its time limit: its result was lost and it was reported as a dead worker.
    """

    left_out = 0

    def append(self, line: tuple[str, str]) -> None:
        super().append(line)
        if len(self) > 2 * APP_LOG_KEEP_LINES:  # trimmed now and then: appends stay O(1)
            self._trim()

    def extend(self, lines: Any) -> None:
        super().extend(lines)
        if len(self) > 2 * APP_LOG_KEEP_LINES:
            self._trim()

    def _trim(self) -> None:
        noted = 1 if self.left_out else 0  # the note from the last trim goes with the lines it heads
        excess = len(self) - APP_LOG_KEEP_LINES + 1
        self.left_out += excess - noted
        del self[:excess]
        super().insert(0, _left_out_note(self.left_out))

    def newest(self) -> list[tuple[str, str]]:
        """What goes to the app's log: at most APP_LOG_KEEP_LINES lines, the note first if any."""
        real = self[1:] if self.left_out else self[:]
        if not self.left_out and len(real) <= APP_LOG_KEEP_LINES:
            return real
        kept = real[-(APP_LOG_KEEP_LINES - 1) :]
        return [_left_out_note(self.left_out + len(real) - len(kept)), *kept]


def _left_out_note(count: int) -> tuple[str, str]:
    return ("warning", f"{count} earlier lines of this run were left out "
                       f"(the app's log keeps the newest {APP_LOG_KEEP_LINES})")  # fmt: skip


def kept_lines(output: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A run's output as the app's log should get it (see RunOutput)."""
    return output.newest() if isinstance(output, RunOutput) else list(output)


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
