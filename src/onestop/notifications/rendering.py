"""Message templates per language: `notifications/<template>.<language>.txt`, first line
the subject, the rest the body.

A message asks for one language; when its template is missing in that language the
next one is taken from the pack's language order (`context["languages"]`), then Russian,
then English. Templates are plain text: nothing is HTML-escaped.

The context the shipped templates read: `number` (the application number), `service`,
`agency`, `deadline` (already formatted for the reader), `status_url`; and where they
apply `documents` (a list of what is missing), `comment` (the officer's words to the
applicant), `reason` (of a refusal), `rate_url`, `offered_service`. A value given as
localized text (`{"kk": ..., "ru": ..., "en": ...}`, as names are stored) is read in the
language of the template used, with the same fallbacks. A link (a value named `*_url`)
given as the site's own path is sent on the site's address, ONESTOP_SITE_URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.template import Context, Engine, TemplateDoesNotExist
from django.template.base import Template

from onestop.core.text import localize

LAST_RESORT_LANGUAGES = ("ru", "en")
_CODE = re.compile(r"^[a-z0-9_]{1,64}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})?$")


class TemplateMissingError(LookupError):
    """No language of the fallback order has this template."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


@cache
def _engine() -> Engine:
    # Our own engine rather than the site's: the same app template folders, but plain
    # text with autoescape off (an apostrophe in an Uzbek name must not become &#x27;).
    return Engine(app_dirs=True, autoescape=False)


def is_template_code(template: str) -> bool:
    return bool(_CODE.match(template))


def is_language_code(language: str) -> bool:
    return bool(_LANGUAGE.match(language))


def language_order(language: str, fallbacks: Iterable[str] = ()) -> list[str]:
    """`language`, its base language, the fallbacks, then Russian and English; no repeats."""
    base = language.split("-")[0]
    order: list[str] = []
    for code in (language, base, *fallbacks, *LAST_RESORT_LANGUAGES):
        if isinstance(code, str) and is_language_code(code) and code not in order:
            order.append(code)
    return order


def _find(template: str, languages: Iterable[str]) -> tuple[Template, str]:
    if not is_template_code(template):
        raise TemplateMissingError(f"{template!r} is not a template code")
    tried = []
    for language in languages:
        tried.append(language)
        try:
            return _engine().get_template(f"notifications/{template}.{language}.txt"), language
        except TemplateDoesNotExist:
            continue
    raise TemplateMissingError(f"no template {template!r} in {', '.join(tried)}")


def template_exists(template: str) -> bool:
    """True when `template` exists in at least one of the site's languages."""
    codes = [code for code, _ in settings.LANGUAGES]
    try:
        _find(template, language_order(codes[0], codes[1:]))
    except TemplateMissingError:
        return False
    return True


def _absolute(value: Any) -> Any:
    """A link of the site's own (a path such as "/status/KZ-.../") as the reader opens it
    from a phone or a mailbox: on the site's address (ONESTOP_SITE_URL), when it is set."""
    site = settings.ONESTOP_SITE_URL
    if site and isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return site + value
    return value


def render(*, template: str, language: str, context: Mapping[str, Any]) -> Rendered:
    """The subject and body of `template` in `language` or the first fallback that has it.

    Raises TemplateMissingError when no language in the order has the template.
    """
    fallbacks = context.get("languages") or ()
    found, used = _find(template, language_order(language, fallbacks))
    values = {
        name: localize(value, used, language_order(used, fallbacks)) if _is_localized(value)
        else _absolute(value) if name.endswith("_url") else value
        for name, value in context.items()
    }
    text = found.render(Context(values, autoescape=False))
    subject, _, body = text.strip().partition("\n")
    return Rendered(subject=" ".join(subject.split()), body=_tidy(body), language=used)


def _is_localized(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and is_language_code(k) for k in value)
        and all(isinstance(v, str) for v in value.values())
    )


def _tidy(body: str) -> str:
    # Optional parts ({% if %}) leave empty lines behind: keep at most one in a row.
    lines = [line.rstrip() for line in body.strip().splitlines()]
    kept = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    return "\n".join(kept) + "\n"
