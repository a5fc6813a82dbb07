"""WebSocket routes; each part of the platform that speaks WebSocket adds its consumers here."""

from __future__ import annotations

from typing import Any

from dashboards.live.routing import websocket_urlpatterns as live_routes
from dashboards.runtime.routing import websocket_urlpatterns as runtime_routes

websocket_urlpatterns: list[Any] = [*runtime_routes, *live_routes]  # ASGI routes, not views
