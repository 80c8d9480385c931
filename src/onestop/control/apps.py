from django.apps import AppConfig


class ControlConfig(AppConfig):
    name = "onestop.control"
    label = "control"
