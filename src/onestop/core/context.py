"""Template context shared by every page: the country being shown and the languages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from onestop.catalogue.models import Country

SESSION_COUNTRY = "onestop_country"


def current_country(request: HttpRequest) -> Country | None:
    wanted = request.session.get(SESSION_COUNTRY) or settings.ONESTOP_COUNTRY
    country = Country.objects.filter(code=wanted).first()
    return country or Country.objects.order_by("code").first()


def onestop(request: HttpRequest) -> dict[str, Any]:
    return {
        "country": current_country(request),
        "countries": list(Country.objects.order_by("code")),
    }
