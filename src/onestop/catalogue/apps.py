from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "onestop.catalogue"
    label = "catalogue"
