from django.apps import AppConfig


class IntegrityConfig(AppConfig):
    name = "onestop.integrity"
    label = "integrity"
    verbose_name = "integrity and optimisation"
