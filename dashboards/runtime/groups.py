"""Channel-layer group names; every one carries what it is scoped to."""

from __future__ import annotations

import hashlib


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
