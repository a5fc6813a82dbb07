from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboards.ops.health import check_database, check_redis

logger = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"  # answered by HealthCheckMiddleware (ops/middleware.py), whatever the Host


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and Redis both answer, else 503 naming what failed (for load balancers)."""
    checks = {"database": check_database(), "redis": check_redis(settings.REDIS_URL)}
    healthy = all(check.ok for check in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: {"ok": check.ok, "detail": check.detail} for name, check in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (outside DEBUG), saying which limit a request broke: a bare "Bad Request"
    leaves someone who pasted a large source into the admin with nothing to fix."""
    logger.info("400 for %s %s: %s", request.method, request.path, type(exception).__name__)
    return refusal_page(request, exception)


def refusal_page(request: HttpRequest, exception: Exception, *, in_query: bool = False) -> HttpResponse:
    """The 400 page naming the limit broken; ``in_query`` when the address broke it, not a form
    (RefuseTooManyQueryFieldsMiddleware)."""
    if isinstance(exception, RequestDataTooBig):
        megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        reason = (
            f"What you sent is larger than the {megabytes:.1f} MB of form fields this server takes in"
            " one request (uploaded files are counted apart). Go back and send less: large sources"
            " are uploaded as a file."
        )
    elif isinstance(exception, TooManyFieldsSent) and in_query:
        reason = (
            f"This address has more than the {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} query"
            " parameters (the part after ?) this server takes in one request. Go back and use fewer."
        )
    elif isinstance(exception, TooManyFieldsSent):
        reason = (
            f"What you sent has more than the {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields"
            " this server takes in one request. Go back and send fewer."
        )
    elif isinstance(exception, TooManyFilesSent):
        reason = (
            f"What you sent has more than the {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files this"
            " server takes in one request. Go back and send fewer."
        )
    else:
        reason = "The server could not understand what your browser sent. Go back and try again."
    return render(request, "400.html", {"reason": reason}, status=400)
