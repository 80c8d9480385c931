"""Pages of the bottleneck analysis and the optimisation report."""

from django.urls import URLPattern, path

from onestop.integrity import bottleneck_views as views

urlpatterns: list[URLPattern] = [
    path("integrity/bottlenecks/", views.bottlenecks, name="bottlenecks"),
    path("integrity/optimisation/<str:agency>/", views.optimisation_page, name="optimisation"),
    path("integrity/optimisation/<str:agency>/pdf/", views.optimisation_pdf,
         name="optimisation_pdf"),
]
