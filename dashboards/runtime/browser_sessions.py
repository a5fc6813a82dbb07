"""The session engine (``SESSION_ENGINE``): Django's database sessions, which tell the sockets
opened with one when it ends.

A session is deleted when its user signs out, when another user signs in on that browser (Django
flushes it), when its key is cycled (a sign-in, a password change): its sockets then look at
whether they are still signed in. Done here rather than with a ``post_delete`` receiver on the
model: a receiver turns off Django's fast delete, and ``clearsessions`` loaded every expired
session to send a message nobody listens to (those sockets find out at their periodic look).
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import transaction

from dashboards.runtime.broadcast import broadcast
from dashboards.runtime.groups import login_group


class SessionStore(DatabaseSessionStore):
    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        super().delete(session_key)
        if key:
            group = login_group(key)
            transaction.on_commit(lambda: broadcast(group, {"type": "access.changed"}), robust=True)

    async def adelete(self, session_key: Any = None) -> None:  # Django's async views: the same
        key = session_key or self.session_key
        await super().adelete(session_key)
        if key:
            from asgiref.sync import sync_to_async  # noqa: PLC0415

            await sync_to_async(broadcast)(login_group(key), {"type": "access.changed"})
