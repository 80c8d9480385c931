"""Template tags of interchange formats: schema.org markup for search engines."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from onestop.catalogue.models import Service, ServiceStandard
from onestop.core.text import localize

register = template.Library()

# Characters that could end the script element or start markup, escaped inside JSON
# strings (the same set Django's json_script escapes).
_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def channel_name(code: str) -> str:
    """A channel's name in the page's language (the words the service page uses)."""
    names = {
        "provider_office": _("provider's office"),
        "centre": _("one-stop-shop centre"),
        "portal": _("portal"),
        "mobile": _("mobile app"),
        "kiosk": _("self-service kiosk"),
        "proactive": _("proactive"),
    }
    return names.get(code, code)


def government_service(request: HttpRequest, service: Service,
                       standard: ServiceStandard, language: str) -> dict[str, Any]:
    """The schema.org GovernmentService of a service page, in the page's language."""
    country = service.country
    fallbacks = country.languages

    def text(value: dict[str, str] | None) -> str:
        return localize(value, language, fallbacks)

    page = request.build_absolute_uri(reverse("catalogue:service", args=[service.code]))
    provider = service.provider
    channels = []
    for code in standard.channels:
        channel: dict[str, Any] = {"@type": "ServiceChannel", "name": channel_name(code)}
        if code == "portal":
            channel["serviceUrl"] = request.build_absolute_uri(
                reverse("portal:apply", args=[service.code]))
        channels.append(channel)
    situations = [text(s.name) for s in service.life_situations.all()]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "@id": page,
        "identifier": service.code,
        "name": text(standard.name),
        "description": text(standard.description) or text(standard.name),
        "url": page,
        "serviceType": situations[0] if situations else text(standard.result),
        "provider": {
            "@type": "GovernmentOrganization",
            "identifier": provider.code,
            "name": text(provider.name),
            "url": request.build_absolute_uri(reverse("catalogue:agency", args=[provider.code])),
        },
        "areaServed": {"@type": "Country", "name": text(country.name),
                       "identifier": country.code},
        "availableChannel": channels,
    }
    if standard.is_free:
        data["isAccessibleForFree"] = True
    return data


@register.simple_tag(takes_context=True)
def government_service_jsonld(context: dict[str, Any], service: Service,
                              standard: ServiceStandard) -> SafeString:
    """A <script type="application/ld+json"> with the service's GovernmentService."""
    request = context["request"]
    data = government_service(request, service, standard, get_language() or "en")
    body = json.dumps(data, ensure_ascii=False, indent=1).translate(_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{body}</script>')  # noqa: S308
