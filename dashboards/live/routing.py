from django.urls import path

from dashboards.live.consumers import LivePageConsumer

websocket_urlpatterns = [
    path("ws/live/", LivePageConsumer.as_asgi()),  # type: ignore[arg-type]
]
