"""The ASGI entry point Daphne serves: HTTP to Django, WebSockets to the session runtime."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboards.config.settings")

from dashboards.config.http import http_application

django_http_application = http_application()  # sets Django up before the routes import models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from dashboards.config.routing import websocket_urlpatterns  # noqa: E402
from dashboards.config.server_tuning import tune_server_process  # noqa: E402
from dashboards.config.static_files import AsyncStaticFiles  # noqa: E402
from dashboards.config.websocket_auth import auth_middleware_stack  # noqa: E402
from dashboards.config.websocket_origin import SameOriginValidator  # noqa: E402
from dashboards.jobs.reconciler import start_reconciler_thread  # noqa: E402
from dashboards.runtime.shutdown import close_at_shutdown, install_shutdown_hook  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": AsyncStaticFiles(django_http_application),
        "websocket": AllowedHostsOriginValidator(
            SameOriginValidator(auth_middleware_stack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

install_shutdown_hook()  # under Daphne: on SIGTERM, tabs are closed with 1012 and reconnect elsewhere
close_at_shutdown(django_http_application.close_connections)
if settings.JOBS_RECONCILER_THREAD:  # web processes reconcile jobs too (the test suite runs its own)
    start_reconciler_thread()
tune_server_process()  # last: what start-up built is frozen out of garbage collection
