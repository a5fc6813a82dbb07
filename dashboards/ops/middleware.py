"""/healthz is answered before Django's host check, so that a probe needs no host name."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from dashboards.ops.views import HEALTHZ_PATH, healthz


class HealthCheckMiddleware:
    """Answers ``/healthz`` itself, whatever the request's ``Host``; every other path goes on.

    Django checks the ``Host`` against ``ALLOWED_HOSTS`` when something first asks for it
    (``CommonMiddleware`` does, for every request), and refuses a host not in the list with 400.
    The probes of this endpoint name no public host: ``make run``'s supervisor and the image's
    HEALTHCHECK ask ``127.0.0.1:<port>``, and load balancers (AWS's, Kubernetes' kubelet) ask a
    machine by its IP address, which changes with every machine. Nothing on the way to this
    answer reads the host, and the answer holds nothing built from it (no link, no redirect, no
    cookie), so no host is needed to give it. Only this exact path skips the check: ``/healthz/``,
    ``/admin/`` and every other address still refuse a host outside ``ALLOWED_HOSTS``.

    It sits after ``SecurityMiddleware`` (whose HTTPS redirect exempts ``/healthz``, and whose
    headers the answer keeps) and before ``SessionMiddleware`` and ``CommonMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTHZ_PATH:
            return healthz(request)
        return self.get_response(request)
