"""Pages for booking and managing appointments (a citizen's own)."""

from django.urls import path

from onestop.centres import views_appointments as views

urlpatterns = [
    path("appointments/", views.my_appointments, name="appointments"),
    path("appointments/new/", views.new_appointment, name="appointment_new"),
    path("appointments/<str:code>/", views.appointment_detail, name="appointment"),
    path("appointments/<str:code>/cancel/", views.cancel_appointment,
         name="appointment_cancel"),
]
