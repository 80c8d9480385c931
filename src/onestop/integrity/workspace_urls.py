"""Pages of the control body's workspace: the red-flag list, its CSV and the case files."""

from django.urls import URLPattern, path

from onestop.integrity import workspace_views as views

urlpatterns: list[URLPattern] = [
    path("integrity/flags/", views.flags, name="flags"),
    path("integrity/flags.csv", views.flags_csv, name="flags_csv"),
    path("integrity/cases/<str:kind>/<int:subject_id>/", views.case, name="case"),
    path("integrity/cases/<str:kind>/<int:subject_id>/notes/", views.add_note,
         name="case_note"),
    path("integrity/cases/<str:kind>/<int:subject_id>/outcome/", views.set_outcome,
         name="case_outcome"),
]
