from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "onestop.audit"
    label = "audit"
    verbose_name = "audit trail"
