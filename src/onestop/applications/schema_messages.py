"""What is wrong with an e-form field, in the reader's language.

A service's e-form is a JSON Schema, and jsonschema explains a broken constraint in
English and with the value it was given ("'12' does not match '^[0-9]{12}$'"). The
portal answers in the page's language, Open311 and GovStack in the language asked (the
JSON API in English), and a value may be personal data: each constraint gets a message of
its own, translated, naming the limit the schema sets and never the value. A keyword
onestop has no message for gets a general one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from jsonschema import ValidationError


def _type_message(expected: Any) -> str:
    messages = {
        "string": _("must be text"),
        "integer": _("must be a whole number"),
        "number": _("must be a number"),
        "boolean": _("must be true or false"),
        "array": _("must be a list of values"),
        "object": _("must be an object of fields"),
        "null": _("must be empty"),
    }
    if isinstance(expected, str) and expected in messages:
        return messages[expected]
    return _("has the wrong type")


def _format_message(name: Any) -> str:
    messages = {
        "date": _("must be a date (YYYY-MM-DD)"),
        "date-time": _("must be a date and time (YYYY-MM-DDThh:mm:ss with its offset)"),
        "time": _("must be a time (hh:mm:ss)"),
        "email": _("must be an email address"),
        "uri": _("must be a web address"),
    }
    return messages.get(name, _("is not in the expected format"))


def _shown(value: Any) -> str:
    """A value of the schema as JSON writes it (true, null), a text as it is."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _listed(values: Any, most: int = 10) -> str:
    """The choices of an enum, the first `most` of a long one."""
    if not isinstance(values, list):
        return _shown(values)
    shown = ", ".join(_shown(v) for v in values[:most])
    return shown + ", …" if len(values) > most else shown


# Limits that count characters or values: the message agrees with the number.
_COUNTED: dict[str, Callable[[int], str]] = {
    "minLength": lambda n: ngettext("must have at least %(limit)d character",
                                    "must have at least %(limit)d characters", n),
    "maxLength": lambda n: ngettext("must have at most %(limit)d character",
                                    "must have at most %(limit)d characters", n),
    "minItems": lambda n: ngettext("must have at least %(limit)d value",
                                   "must have at least %(limit)d values", n),
    "maxItems": lambda n: ngettext("must have at most %(limit)d value",
                                   "must have at most %(limit)d values", n),
}


def constraint_message(error: ValidationError) -> str:
    """The message for one broken constraint of an e-form (not `required` or
    `additionalProperties`: those name fields, and the caller words them)."""
    keyword, limit = error.validator, error.validator_value
    if keyword == "type":
        return _type_message(limit)
    if keyword == "format":
        return _format_message(limit)
    if keyword == "enum":
        return _("must be one of: %(choices)s") % {"choices": _listed(limit)}
    if keyword == "const":
        return _("must be %(value)s") % {"value": _shown(limit)}
    if isinstance(limit, int) and (counted := _COUNTED.get(str(keyword))) is not None:
        return counted(limit) % {"limit": limit}
    if keyword == "pattern":
        return _("is not in the expected format")
    if keyword == "uniqueItems":
        return _("must not repeat a value")
    bounds = {
        "minimum": _("must be at least %(limit)s"),
        "maximum": _("must be at most %(limit)s"),
        "exclusiveMinimum": _("must be greater than %(limit)s"),
        "exclusiveMaximum": _("must be less than %(limit)s"),
        "multipleOf": _("must be a multiple of %(limit)s"),
    }
    if keyword in bounds:
        return bounds[str(keyword)] % {"limit": limit}
    return _("is not valid for this field")
