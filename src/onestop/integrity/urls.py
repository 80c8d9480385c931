"""Pages of integrity and optimisation."""

from django.urls import URLPattern, URLResolver

from onestop.integrity import bottleneck_urls, workspace_urls

app_name = "integrity"

urlpatterns: list[URLPattern | URLResolver] = [*bottleneck_urls.urlpatterns,
                                                 *workspace_urls.urlpatterns]
