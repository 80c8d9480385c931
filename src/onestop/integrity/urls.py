"""Pages of integrity and optimisation."""

from django.urls import URLPattern, URLResolver

app_name = "integrity"

urlpatterns: list[URLPattern | URLResolver] = []
