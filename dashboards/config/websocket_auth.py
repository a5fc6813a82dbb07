"""Channels' sign-in middleware for WebSockets, its database work on the db-call pool.

Channels' ``AuthMiddleware`` loads the session and the user through ``database_sync_to_async``:
on Channels' one shared sync thread, which closes its connection after every call (``CONN_MAX_AGE``
is 0), so every socket's connect opened a database connection (about 1 ms on SQLite, 6 to 7 ms
on PostgreSQL) and queued behind any other sync work of the process. Here the same lookup
(Channels' own ``get_user``) runs on the ``db-call`` threads, which keep their connections.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware

from dashboards.runtime.db import db_call

_get_user_on_pool = db_call(get_user.func)  # type: ignore[attr-defined]  # the plain function under Channels' decorator


class AuthMiddlewareOnDbPool(AuthMiddleware):
    async def resolve_scope(self, scope: dict[str, Any]) -> None:  # type: ignore[override]
        scope["user"]._wrapped = await _get_user_on_pool(scope)


def auth_middleware_stack(inner: Any) -> CookieMiddleware:
    """``channels.auth.AuthMiddlewareStack``, with the lookup above."""
    return CookieMiddleware(SessionMiddleware(AuthMiddlewareOnDbPool(inner)))
