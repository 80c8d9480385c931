"""The JSON API speaks English, whatever language a browser asks for.

People read the pages in their own language (LocaleMiddleware picks it); the JSON API
under /api/ answers other systems, whose integrators read one language: its error
messages are in English, and the data it carries (names, titles) keeps every language
of the country, as it is stored. Open311 and the GovStack façade are left to
LocaleMiddleware: their specifications give names in the language asked, so their
messages follow the same language.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

API_PREFIX = "/api/"


class MachineInterfacesInEnglish:
    """After LocaleMiddleware: English for every request to the JSON API."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        return self.get_response(request)
