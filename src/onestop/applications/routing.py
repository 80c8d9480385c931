"""Which agency decides an application: the provider's unit for the applicant's region."""

from __future__ import annotations

from onestop.catalogue.models import Agency, Region, Service
from onestop.catalogue.selectors import agency_subtree_ids


def route(service: Service, region: Region | None) -> Agency:
    """The provider's own unit in `region` when it has one (the territorial department
    that serves that region), otherwise the provider itself."""
    if region is not None:
        units = Agency.objects.filter(
            pk__in=agency_subtree_ids([service.provider_id]), region=region
        ).order_by("code")
        unit = units.first()
        if unit is not None:
            return unit
    return service.provider
