from django.urls import path

from dashboards.notifications import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:notification_id>/read/", views.inbox_mark_read, name="inbox_mark_read"),
    path("read-all/", views.inbox_mark_all_read, name="inbox_mark_all_read"),
]
