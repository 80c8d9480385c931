"""Pages of the centres: kiosk, display board and operator desk; appointments;
statistics and the staffing planner."""

from django.urls import include, path

app_name = "centres"

urlpatterns = [
    path("", include("onestop.centres.urls_desk")),
    path("", include("onestop.centres.urls_appointments")),
    path("", include("onestop.centres.urls_stats")),
]
