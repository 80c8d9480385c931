from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "onestop.public"
    label = "public"
    verbose_name = "public monitoring"
