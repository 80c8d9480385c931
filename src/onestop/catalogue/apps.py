from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "onestop.catalogue"
    label = "catalogue"

    def ready(self) -> None:
        from onestop.core import revisions

        # Every write to the register gives it a new revision: the per-process caches
        # of services and standards read afresh (onestop.core.revisions).
        revisions.watch("catalogue", *self.get_models(include_auto_created=True))
