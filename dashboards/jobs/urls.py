from django.urls import path

from dashboards.jobs import views

urlpatterns = [
    path("", views.job_list_page, name="job_list"),
    path("<int:job_id>/", views.job_detail_page, name="job_detail"),
    path("<int:job_id>/cancel/", views.job_cancel_view, name="job_cancel"),
    path("<int:job_id>/retry/", views.job_retry_view, name="job_retry"),
]
