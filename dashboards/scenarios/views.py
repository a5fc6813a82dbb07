"""The Scenarios pages of a tenant: a live table and a scenario's page (thin views)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from dashboards.hosting.selectors import app_list_for_member
from dashboards.scenarios.models import ScenarioStatus
from dashboards.scenarios.pages import may_see_scenario
from dashboards.scenarios.selectors import scenario_get, scenario_list_for_member
from dashboards.tenancy.views import tenant_member_required


@tenant_member_required
def scenario_list_page(request: HttpRequest) -> HttpResponse:
    access = request.tenant_access  # type: ignore[attr-defined]
    filters = {name: request.GET.get(name, "")[:64] for name in ("app", "status")}
    context = {
        "scenarios": scenario_list_for_member(
            tenant=access.tenant, user=request.user, role=access.role, app_slug=filters["app"],
            status=filters["status"],
        ),
        "filters": filters,
        "apps": app_list_for_member(tenant=access.tenant, user=request.user, role=access.role),
        "statuses": ScenarioStatus.choices,
    }  # fmt: skip
    return render(request, "scenarios/scenario_list.html", context)


@tenant_member_required
def scenario_detail_page(request: HttpRequest, scenario_id: int) -> HttpResponse:
    """The whole page, or only its body (``?part=body``: the live page reloads it when it changes).

    A body that is gone (deleted while the page's socket was down) answers the page's notice,
    not a 404 htmx would not swap: the same answer whether it was deleted or is hidden from this
    member, as the page's 404 is.
    """
    access = request.tenant_access  # type: ignore[attr-defined]
    scenario = scenario_get(tenant=access.tenant, scenario_id=scenario_id)
    if scenario is None or not may_see_scenario(scenario=scenario, user=request.user, role=access.role):
        if request.GET.get("part") == "body":
            context = {"scenario_id": scenario_id, "tenant": access.tenant, "gone": True}
            return render(request, "scenarios/_scenario_gone.html", context)
        raise Http404("No such scenario.")
    if request.GET.get("part") == "body":
        return render(request, "scenarios/_scenario_body.html", {"scenario": scenario})
    return render(request, "scenarios/scenario_detail.html", {"scenario": scenario})
