"""Project configuration: settings, ASGI entry point, URL and WebSocket routing."""
