from django.apps import AppConfig


class GovStackConfig(AppConfig):
    name = "onestop.govstack"
    label = "govstack"
    verbose_name = "GovStack Registration"
