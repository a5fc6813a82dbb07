from django.urls import path, re_path

from dashboards.hosting.models import LINK_TOKEN_PATTERN
from dashboards.runtime.views import app_link_page, app_page
from dashboards.tenancy import views

urlpatterns = [
    path("", views.home, name="home"),
    path("t/", views.tenant_list, name="tenant_list"),
    path("t/<slug:tenant_slug>/", views.tenant_home, name="tenant_home"),
    path("t/<slug:tenant_slug>/people/", views.tenant_people, name="tenant_people"),
    path("t/<slug:tenant_slug>/apps/<slug:app_slug>/", app_page, name="app_page"),
    # An app shared with anyone who has the link.
    re_path(rf"^l/(?P<token>{LINK_TOKEN_PATTERN})/$", app_link_page, name="app_link_page"),
]
