"""The machine interfaces speak English, whatever language a browser asks for.

People read the pages in their own language (LocaleMiddleware picks it); the JSON API,
Open311 and the GovStack façade answer other systems, whose integrators read one
language: their error messages are in English. The data they carry (names, titles)
keeps every language of the country, as it is stored.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

MACHINE_PREFIXES = ("/api/", "/open311/", "/govstack/")


class MachineInterfacesInEnglish:
    """After LocaleMiddleware: English for every request to a machine interface (every
    request when the GovStack gateway serves its URLconf at the root)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(settings, "ONESTOP_GOVSTACK_GATEWAY", False) or request.path_info.startswith(
            MACHINE_PREFIXES
        ):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        return self.get_response(request)
