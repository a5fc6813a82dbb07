"""Channel-layer group names; every one carries what it is scoped to."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from dashboards.runtime.loops import per_loop


def app_group(app_id: int) -> str:
    """Every open session of an app (new releases are announced here)."""
    return f"dashboards.app.{app_id}"


def user_group(user_id: int) -> str:
    """Every open session of a user (access changes are re-checked here)."""
    return f"dashboards.user.{user_id}"


def login_group(session_key: str) -> str:
    """Every socket opened by one signed-in browser session (closed on sign-out)."""
    return "dashboards.login." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def inbox_group(user_id: int) -> str:
    """Every open page of a user, platform pages and app tabs alike (toasts, the inbox badge)."""
    return f"dashboards.inbox.{user_id}"


def tab_group(app_id: int, session_id: str) -> str:
    """One tab's session, wherever its socket is open (its jobs report here)."""
    return f"dashboards.tab.{app_id}.{session_id}"


# --- joining and leaving, bounded ---
# redis-py 8's async pool raises "Too many connections" past 100 instead of waiting: a thousand tabs
# closing at once (a server restart, a network blip) would each take one for their group_discard.
# Membership changes of one event loop go through this many at a time, so they queue instead.
MEMBERSHIP_CHANGES_AT_ONCE = 32
_slot = per_loop(lambda: asyncio.Semaphore(MEMBERSHIP_CHANGES_AT_ONCE))


async def group_join(layer: Any, group: str, channel: str) -> None:
    async with _slot():
        await layer.group_add(group, channel)


async def group_leave(layer: Any, group: str, channel: str) -> None:
    async with _slot():
        await layer.group_discard(group, channel)
