"""WebSocket routes; each part of the platform that speaks WebSocket adds its consumers here."""

from __future__ import annotations

from dashboards.live.routing import websocket_urlpatterns as live_routes
from dashboards.runtime.routing import websocket_urlpatterns as runtime_routes

websocket_urlpatterns = [*runtime_routes, *live_routes]
