from django.urls import path

from dashboards.events import views

urlpatterns = [
    path("", views.event_log_page, name="event_log"),
]
