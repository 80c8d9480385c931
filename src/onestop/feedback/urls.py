"""Pages of ratings and complaints: the citizen's under /feedback/, staff's under /office/."""

from django.urls import path

from onestop.feedback import views

app_name = "feedback"

urlpatterns = [
    path("feedback/rate/ticket/<str:token>/", views.rate_ticket, name="rate_ticket"),
    path("feedback/rate/<str:number>/", views.rate_application, name="rate"),
    path("feedback/complaints/", views.my_complaints, name="complaints"),
    path("feedback/complaints/new/", views.new_complaint, name="new_complaint"),
    path("feedback/complaints/<str:number>/", views.complaint_detail, name="complaint"),
    path("office/complaints/", views.office_complaints, name="office_complaints"),
    path("office/complaints/<str:number>/", views.office_complaint, name="office_complaint"),
    path("office/feedback/alerts/", views.alerts, name="alerts"),
]
