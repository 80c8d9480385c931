"""Pages of a centre: the kiosk, the display board and the operator desk."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
