from django.apps import AppConfig


class OpenDataConfig(AppConfig):
    name = "onestop.opendata"
    label = "opendata"
    verbose_name = "open data"
