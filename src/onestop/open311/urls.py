"""Open311 GeoReport v2 at /open311/v2/: every resource in XML or JSON by its extension.

The resources without a parameter have one named route per format
(`open311:services-json`), so crawlers of the public site find them; any other
extension is answered with the spec's 404 error document.
"""

from django.urls import URLPattern, URLResolver, path, re_path

from onestop.open311 import views
from onestop.open311.formats import FORMATS

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,8})$"

urlpatterns: list[URLPattern | URLResolver] = [
    *(path(f"{name}.{fmt}", view, {"fmt": fmt}, name=f"{name}-{fmt}")
      for name, view in (("discovery", views.discovery), ("services", views.service_list),
                         ("requests", views.requests))
      for fmt in FORMATS),
    re_path(r"^(?:discovery|services|requests)" + FMT, views.unsupported),
    re_path(r"^services/(?P<service_code>[^/]{1,80}?)" + FMT, views.service_definition,
            name="service"),
    re_path(r"^requests/(?P<service_request_id>[^/]{1,40}?)" + FMT, views.request_detail,
            name="request"),
    re_path(r"^tokens/(?P<token>[^/]{1,64}?)" + FMT, views.token, name="token"),
]
