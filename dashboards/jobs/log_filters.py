"""Log filters for the jobs worker (no Django import: the logging configuration loads them).

RQ logs its registry maintenance at INFO on every pass; the worker runs it every 5 s (the
reconciler's interval), which made three lines every 5 s per worker, about 50,000 a day, around
the lines that matter (jobs started, finished, failed).
"""

from __future__ import annotations

import logging

ROUTINE_MAINTENANCE = ("cleaning registries for queue", "cleaning group registries")


class WithoutRoutineMaintenance(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = str(record.msg)
        return not any(text in message for text in ROUTINE_MAINTENANCE)
