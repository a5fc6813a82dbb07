from django.urls import path

from dashboards.scenarios import views

urlpatterns = [
    path("", views.scenario_list_page, name="scenario_list"),
    path("<int:scenario_id>/", views.scenario_detail_page, name="scenario_detail"),
]
