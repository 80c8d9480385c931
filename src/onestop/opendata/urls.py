"""Pages of open data."""

from django.urls import URLPattern, URLResolver

app_name = "opendata"

urlpatterns: list[URLPattern | URLResolver] = []
