from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from onestop.core.text import localize

register = template.Library()


@register.simple_tag(takes_context=True)
def tr(context: dict[str, Any], text: dict[str, str] | None) -> str:
    """A localized text in the page's language, falling back along the pack's languages."""
    country = context.get("country")
    fallbacks = country.languages if country is not None else ()
    return localize(text, get_language() or "en", fallbacks)
