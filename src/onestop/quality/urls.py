"""Pages of the quality rankings: a ranking, one unit, the records behind an indicator."""

from django.urls import path

from onestop.quality import views

app_name = "quality"

urlpatterns = [
    path("quality/", views.rankings, name="rankings"),
    path("quality/<str:scope>/<str:unit>/", views.unit_page, name="unit"),
    path("quality/<str:scope>/<str:unit>/<str:indicator>/", views.cases_page, name="cases"),
]
