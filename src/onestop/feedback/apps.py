from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "onestop.feedback"
    label = "feedback"
