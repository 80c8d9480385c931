from django.contrib import admin
from django.urls import include, path

from onestop.api import api
from onestop.core import views as core_views

admin.site.site_header = "onestop administration"
admin.site.site_title = "onestop"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("onestop.accounts.urls")),
    path("", include("onestop.feedback.urls")),
    path("", include("onestop.control.urls")),
    path("", include("onestop.applications.urls_portal")),
    path("", include("onestop.applications.urls_office")),
    path("", include("onestop.centres.urls")),
    path("", include("onestop.quality.urls")),
    path("", include("onestop.integrity.urls")),
    path("", include("onestop.public.urls")),
    path("", include("onestop.opendata.urls")),
    path("open311/v2/", include("onestop.open311.urls")),
    path("govstack/", include("onestop.govstack.urls")),
    path("", include("onestop.interop.urls")),
    path("", include("onestop.catalogue.urls")),
]
