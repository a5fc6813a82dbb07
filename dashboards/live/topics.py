"""The live-topic registry: a named fragment renderer per topic, and ``publish`` to wake its pages.

A platform page names the topics it shows (``/ws/live/?tenant=acme&topics=jobs``). When something
behind a topic changes, the writer calls ``publish(tenant_id=..., topic=..., data=...)`` after its
write; every open page of that tenant subscribed to the topic runs the topic's renderer for its
own user and receives the HTML (out-of-band swaps), which htmx swaps in. The renderer reads the
database, the truth: ``publish`` is a hint, at most once, and a page that misses one is right
again on its next load.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction

from dashboards.runtime.broadcast import broadcast

logger = logging.getLogger(__name__)

# Channel-layer group names allow ASCII letters, digits, "-", "_" and "." (under 100 characters).
TOPIC_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
MAX_TOPICS_PER_PAGE = 8  # a page names a handful; more is a mistake or an attack on the layer
MESSAGE_TYPE = "live.changed"

#: renderer(*, user, tenant, data) -> HTML of out-of-band swaps, or "" for nothing to send.
Renderer = Callable[..., str]
_renderers: dict[str, Renderer] = {}


def register_topic(name: str, renderer: Renderer) -> None:
    """Called from an app config's ``ready()``; a name is registered once."""
    _check_name(name)
    if name in _renderers and _renderers[name] is not renderer:
        raise ValueError(f"The live topic {name!r} is already registered.")
    _renderers[name] = renderer


def unregister_topic(name: str) -> None:
    """For tests."""
    _renderers.pop(name, None)


def topic_renderer(name: str) -> Renderer | None:
    return _renderers.get(name)


def topic_group(*, tenant_id: int, topic: str) -> str:
    """Every open page of one tenant that shows ``topic``."""
    _check_name(topic)
    return f"dashboards.live.{int(tenant_id)}.{topic}"


def publish(*, tenant_id: int, topic: str, data: dict[str, Any]) -> None:
    """Tell the tenant's pages that ``topic`` changed, once the current transaction commits.

    Synchronous code only (from async code: ``await sync_to_async(publish)(...)``). ``data`` travels
    through Redis: plain JSON-like values, small (ids, not rows).
    """
    group = topic_group(tenant_id=tenant_id, topic=topic)
    message = {"type": MESSAGE_TYPE, "topic": topic, "data": dict(data)}
    transaction.on_commit(lambda: broadcast(group, message))


def render_topic(*, topic: str, user: Any, tenant: Any, data: dict[str, Any]) -> str:
    """Run the topic's renderer for one page; a failing renderer costs that page one update."""
    renderer = _renderers.get(topic)
    if renderer is None:
        return ""
    try:
        return renderer(user=user, tenant=tenant, data=data) or ""
    except Exception:
        logger.exception("live topic %s: the renderer failed for user %s", topic, getattr(user, "pk", None))
        return ""


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not TOPIC_NAME.match(name):
        raise ValueError(f"A live topic is named in lowercase letters, digits, '-' and '_': {name!r}.")
