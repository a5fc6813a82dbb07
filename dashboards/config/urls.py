from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboards.ops.views import healthz

handler400 = "dashboards.ops.views.bad_request"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("inbox/", include("dashboards.notifications.urls")),
    path("t/<slug:tenant_slug>/jobs/", include("dashboards.jobs.urls")),
    path("t/<slug:tenant_slug>/events/", include("dashboards.events.urls")),
    path("t/<slug:tenant_slug>/scenarios/", include("dashboards.scenarios.urls")),
    path("", include("dashboards.tenancy.urls")),
]
