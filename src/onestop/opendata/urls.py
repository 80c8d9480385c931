"""Pages of open data."""

from django.urls import URLPattern, URLResolver, path

from onestop.opendata import views

app_name = "opendata"

urlpatterns: list[URLPattern | URLResolver] = [
    path("open-data/", views.index, name="index"),
    path("open-data/files/<path:name>", views.download, name="file"),
]
