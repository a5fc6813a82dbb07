"""WebSocket routes; each part of the platform that speaks WebSocket adds its consumers here."""

from __future__ import annotations

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
