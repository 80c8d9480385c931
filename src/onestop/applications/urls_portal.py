"""The citizen's pages: applying online, drafts, my applications, and the public status."""

from django.urls import path

from onestop.applications import views_portal as views

app_name = "portal"

urlpatterns = [
    path("apply/<str:code>/", views.apply, name="apply"),
    path("drafts/", views.drafts, name="drafts"),
    path("drafts/<int:draft_id>/delete/", views.delete_draft, name="delete_draft"),
    path("cabinet/", views.cabinet, name="cabinet"),
    path("cabinet/<str:number>/", views.application_detail, name="application"),
    path("cabinet/<str:number>/documents/<int:document_id>/", views.download_document,
         name="document"),
    path("cabinet/<str:number>/receipt.pdf", views.receipt, name="receipt"),
    path("cabinet/<str:number>/result.pdf", views.result_document, name="result"),
    path("status/", views.status_lookup, name="status"),
    path("status/<str:number>/", views.status_detail, name="status_detail"),
]
