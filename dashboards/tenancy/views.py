from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dashboards.hosting.selectors import app_list_for_member
from dashboards.tenancy.roles import can_develop_apps, can_manage_members
from dashboards.tenancy.selectors import (
    membership_list,
    team_list,
    tenant_access_for_user,
    tenant_list_for_user,
)

CURRENT_TENANT_SESSION_KEY = "current_tenant"
View = Callable[..., HttpResponse]


def tenant_member_required(view: View) -> View:
    """Resolve ``tenant_slug`` to ``request.tenant_access``; a non-member gets the same 404 as a typo."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, tenant_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        access = tenant_access_for_user(user=request.user, slug=tenant_slug)
        if access is None:
            raise Http404("No such page.")
        request.tenant_access = access  # type: ignore[attr-defined]
        if request.session.get(CURRENT_TENANT_SESSION_KEY) != access.tenant.slug:
            request.session[CURRENT_TENANT_SESSION_KEY] = access.tenant.slug
        return view(request, *args, **kwargs)

    return wrapper


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Back to the tenant used last, or straight into the only one; otherwise the list."""
    tenants = list(tenant_list_for_user(user=request.user))
    last = request.session.get(CURRENT_TENANT_SESSION_KEY)
    for tenant in tenants:
        if tenant.slug == last:
            return redirect("tenant_home", tenant_slug=tenant.slug)
    if len(tenants) == 1:
        return redirect("tenant_home", tenant_slug=tenants[0].slug)
    return render(request, "tenancy/tenant_list.html", {"tenants": tenants})


@login_required
def tenant_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tenancy/tenant_list.html", {"tenants": tenant_list_for_user(user=request.user)})


@tenant_member_required
def tenant_home(request: HttpRequest) -> HttpResponse:
    access = request.tenant_access  # type: ignore[attr-defined]
    context = {
        "tenant": access.tenant,
        "apps": app_list_for_member(tenant=access.tenant, user=request.user, role=access.role),
        "can_develop": can_develop_apps(access.role),
    }
    return render(request, "tenancy/tenant_home.html", context)


@tenant_member_required
def tenant_people(request: HttpRequest) -> HttpResponse:
    access = request.tenant_access  # type: ignore[attr-defined]
    context = {
        "memberships": membership_list(tenant=access.tenant),
        "teams": team_list(tenant=access.tenant),
        "can_manage": can_manage_members(access.role),
    }
    return render(request, "tenancy/tenant_people.html", context)
