from django.urls import path, re_path

from dashboards.hosting.models import LINK_TOKEN_PATTERN
from dashboards.runtime.consumers import AppSessionConsumer, LinkSessionConsumer

websocket_urlpatterns = [
    path("ws/t/<slug:tenant_slug>/apps/<slug:app_slug>/", AppSessionConsumer.as_asgi()),  # type: ignore[arg-type]
    # An app shared with anyone who has its link: the token is the link's secret.
    re_path(rf"^ws/l/(?P<token>{LINK_TOKEN_PATTERN})/$", LinkSessionConsumer.as_asgi()),  # type: ignore[arg-type]
]
