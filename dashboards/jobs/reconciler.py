"""The jobs reconciler in web processes too: a job must not stay "running" while no worker is up."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

from dashboards.jobs.limits import RECONCILE_EVERY_SECONDS

logger = logging.getLogger(__name__)
_started = False


def start_reconciler_thread() -> None:
    """Once per process: every RECONCILE_EVERY_SECONDS, fail dead jobs and re-enqueue lost ones."""
    global _started  # noqa: PLW0603 - one thread per process
    if _started:
        return
    _started = True
    threading.Thread(target=_loop, name="jobs-reconciler", daemon=True).start()


def _loop() -> None:
    from dashboards.jobs.services import jobs_reconcile  # noqa: PLC0415 - apps are ready by now

    stop = threading.Event()
    while not stop.wait(RECONCILE_EVERY_SECONDS):
        try:
            jobs_reconcile()
        except Exception as error:  # the database or Redis restarting: try again next time
            logger.warning("jobs reconciler: %s: %s", type(error).__name__, error)
        finally:
            close_old_connections()
