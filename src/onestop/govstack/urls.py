"""The GovStack façade's paths: the root URLconf of `onestop serve --govstack`, and
mounted under /govstack/ in the main site."""

from django.urls import path

from onestop.govstack import views

app_name = "govstack"

urlpatterns = [
    path("healthcheck", views.healthcheck, name="healthcheck"),
    path("services", views.service_list, name="services"),
    path("services/<str:service_id>", views.service_detail, name="service"),
    path("services/<str:service_id>/eForms", views.service_eforms, name="service-eforms"),
    path("services/<str:service_id>/applications", views.submit_application,
         name="submit"),
    path("eForms/<str:eform_id>", views.eform_detail, name="eform"),
    path("documents", views.upload_document, name="documents"),
    path("applications", views.application_list, name="applications"),
    path("applications/<str:file_id>", views.application_detail, name="application"),
    path("tasks", views.task_list, name="tasks"),
    path("tasks/<str:task_id>", views.task_detail, name="task"),
    path("tasks/<str:task_id>/complete", views.task_complete, name="task-complete"),
    path("data/statistics", views.statistics, name="statistics"),
    path("data/statistics/1.0", views.statistics, name="statistics-1.0"),
]
