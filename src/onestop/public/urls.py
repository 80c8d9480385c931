"""Pages of public monitoring: everything under /monitor/ (see onestop.public.pages)."""

from django.urls import URLPattern, URLResolver, path, re_path

from onestop.public import views

app_name = "public"

urlpatterns: list[URLPattern | URLResolver] = [
    path("monitor/", views.monitor, name="home"),
    re_path(r"^monitor/(?P<path>(?:[A-Za-z0-9._-]+/){0,3}[A-Za-z0-9._-]*)$", views.monitor,
            name="page"),
]
