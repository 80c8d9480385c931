"""Staff pages: the back office under /office/ and a centre's counter under /counter/."""

from django.urls import path, re_path

from onestop.applications import views_counter as counter
from onestop.applications import views_office as views

app_name = "office"

urlpatterns = [
    path("office/", views.inbox, name="inbox"),
    path("office/<str:number>/", views.application_page, name="application"),
    path("office/<str:number>/act/", views.act, name="act"),
    path("office/<str:number>/assign/", views.assign, name="assign"),
    path("office/<str:number>/documents/<int:document_id>/", views.document, name="document"),
    path("counter/", counter.counter, name="counter"),
    path("counter/find/", counter.counter_find, name="counter_find"),
    path("counter/submitted/<str:number>/", counter.counter_submitted,
         name="counter_submitted"),
    path("counter/receipt/<str:number>.pdf", counter.counter_receipt, name="counter_receipt"),
    path("counter/result/<str:number>.pdf", counter.counter_result, name="counter_result"),
    path("counter/applications/<str:number>/", counter.counter_application,
         name="counter_application"),
    path("counter/applications/<str:number>/act/", counter.counter_act, name="counter_act"),
    path("counter/applications/<str:number>/documents/<int:document_id>/",
         counter.counter_document, name="counter_document"),
    re_path(r"^counter/(?P<code>[0-9]{8})/$", counter.counter_service, name="counter_service"),
]
