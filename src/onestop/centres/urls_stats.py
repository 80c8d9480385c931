"""Pages for centre managers: queue statistics and the staffing planner."""

from django.urls import path

from onestop.centres import views_stats

urlpatterns = [
    path("centres/<str:code>/statistics/", views_stats.statistics, name="statistics"),
    path("centres/<str:code>/planner/", views_stats.planner_page, name="planner"),
]
