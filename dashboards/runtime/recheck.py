"""A socket's periodic look at whether its user may still hold it, besides the change messages."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from dashboards.runtime.limits import ACCESS_RECHECK_SECONDS

logger = logging.getLogger(__name__)


def recheck_access_periodically(check: Callable[[], Awaitable[None]], label: str) -> asyncio.Task[None]:
    """Run ``check`` every ACCESS_RECHECK_SECONDS (jittered, so sockets opened together do not ask
    together) until the task is cancelled; a failed check (the database away) is tried next time."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(ACCESS_RECHECK_SECONDS * random.uniform(0.8, 1.2))  # noqa: S311 - jitter
            try:
                await check()
            except Exception as error:
                logger.warning("%s: access not checked (%s: %s)", label, type(error).__name__, error)

    return asyncio.get_running_loop().create_task(loop())
