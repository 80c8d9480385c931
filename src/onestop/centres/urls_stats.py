"""Pages for centre managers: queue statistics and the staffing planner."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
