"""Pages of the control of violations, for supervisors and the control body."""

from django.urls import path

from onestop.control import views

app_name = "control"

urlpatterns = [
    path("control/violations/", views.violations, name="violations"),
    path("control/violations/<int:violation_id>/", views.violation, name="violation"),
]
