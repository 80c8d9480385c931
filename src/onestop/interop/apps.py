from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "onestop.interop"
    label = "interop"
    verbose_name = "interchange formats"
