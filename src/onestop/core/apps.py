from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "onestop.core"
    label = "core"

    def ready(self) -> None:
        from onestop.core import revisions

        # After every migrate, once every app's tables are there.
        post_migrate.connect(revisions.install, sender=self,
                             dispatch_uid="onestop.core.revisions.install")
