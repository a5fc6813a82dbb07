from django.urls import path

from dashboards.runtime.consumers import AppSessionConsumer

websocket_urlpatterns = [
    path("ws/t/<slug:tenant_slug>/apps/<slug:app_slug>/", AppSessionConsumer.as_asgi()),  # type: ignore[arg-type]
]
