"""A service's e-form (JSON Schema) as Open311 attributes, and Open311 attribute values
back as the e-form's JSON form data.

Types: a string is `string`; a date or date-time is `datetime`; an integer or number is
`number`; an enum, a const or a boolean is a `singlevaluelist`; an array of an enum is a
`multivaluelist`; any other array is `text` (one value per line or comma). What the form
finally accepts is decided by `applications.services.submit`, which validates the data
against the schema and names every problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from onestop.core.text import enum_titles, localize

TRUE = frozenset({"true", "1", "yes"})
FALSE = frozenset({"false", "0", "no"})


def ordered(schema: Mapping[str, Any]) -> list[str]:
    """The e-form's fields in the pack's order (`x-order`, then the rest)."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    declared = [name for name in schema.get("x-order") or [] if name in properties]
    return declared + [name for name in properties if name not in declared]


def _spec(schema: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    spec = (schema.get("properties") or {}).get(name)
    return spec if isinstance(spec, Mapping) else {}


def _values(options: Iterable[Any]) -> list[dict[str, str]]:
    return [{"key": _key(option), "name": _key(option)} for option in options]


def _items(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    items = spec.get("items")
    return items if isinstance(items, Mapping) else {}


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def datatype(spec: Mapping[str, Any]) -> tuple[str, list[dict[str, str]], str]:
    """(Open311 datatype, values, datatype_description) of one e-form field."""
    kind = spec.get("type")
    if "const" in spec:
        return "singlevaluelist", _values([spec["const"]]), ""
    if isinstance(spec.get("enum"), list):
        return "singlevaluelist", _values(spec["enum"]), ""
    if kind == "boolean":
        return ("singlevaluelist",
                [{"key": "true", "name": _("yes")}, {"key": "false", "name": _("no")}], "")
    if kind in ("integer", "number"):
        hints = [_("a whole number") if kind == "integer" else _("a number")]
        if "minimum" in spec:
            hints.append(_("at least %(n)s") % {"n": spec["minimum"]})
        if "exclusiveMinimum" in spec:
            hints.append(_("more than %(n)s") % {"n": spec["exclusiveMinimum"]})
        if "maximum" in spec:
            hints.append(_("at most %(n)s") % {"n": spec["maximum"]})
        return "number", [], ", ".join(hints)
    if kind == "array":
        items = _items(spec)
        if isinstance(items.get("enum"), list):
            return "multivaluelist", _values(items["enum"]), ""
        hint = _("several values, one per line or separated by commas")
        if items.get("pattern"):
            hint += "; " + _("each matching %(pattern)s") % {"pattern": items["pattern"]}
        return "text", [], hint
    if kind == "string":
        fmt = spec.get("format")
        if fmt == "date":
            return "datetime", [], _("a date, YYYY-MM-DD")
        if fmt == "date-time":
            return "datetime", [], _("a date and time in ISO 8601, with its time zone")
        hints = []
        if fmt == "email":
            hints.append(_("an email address"))
        if spec.get("pattern"):
            hints.append(_("matching %(pattern)s") % {"pattern": spec["pattern"]})
        if spec.get("maxLength"):
            hints.append(_("at most %(n)s characters") % {"n": spec["maxLength"]})
        return "string", [], ", ".join(hints)
    return "text", [], _("a JSON value")


def attributes(schema: Mapping[str, Any], language: str, fallbacks: Sequence[str],
               first_order: int = 1) -> list[dict[str, Any]]:
    """The e-form's fields as Open311 attributes, numbered from `first_order`."""
    required = set(schema.get("required") or [])
    found = []
    for order, name in enumerate(ordered(schema), start=first_order):
        spec = _spec(schema, name)
        kind, values, hint = datatype(spec)
        items = _items(spec)
        titles = enum_titles(items if "x-enum-titles" in items else spec, language, fallbacks)
        values = [{**value, "name": titles.get(value["key"], value["name"])} for value in values]
        label = (localize(spec.get("x-title"), language, fallbacks) or spec.get("title")
                 or name.replace("_", " "))
        found.append({
            "variable": True,
            "code": name,
            "datatype": kind,
            "required": name in required,
            "datatype_description": hint,
            "order": order,
            "description": str(label),
            "values": values,
        })
    return found


def _one(name: str, given: Sequence[str], problems: dict[str, list[str]]) -> str | None:
    if len(given) > 1:
        problems.setdefault(f"attribute[{name}]", []).append(_("give one value"))
        return None
    return given[0]


def _typed(spec: Mapping[str, Any], value: str) -> Any:
    """`value` as the JSON type the schema asks for, or ValueError."""
    kind = spec.get("type")
    options = [spec["const"]] if "const" in spec else spec.get("enum")
    if isinstance(options, list):
        for option in options:
            if _key(option) == value:
                return option
        return value  # the schema names the allowed values
    if kind == "boolean":
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        raise ValueError(_("true or false"))
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            raise ValueError(_("a whole number")) from None
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise ValueError(_("a number")) from None
        return int(number) if number.is_integer() and "." not in value else number
    if kind == "string" and spec.get("format") == "date" and len(value) > 10 and value[10] in "T ":
        return value[:10]  # a date-time given for a date: its date
    if kind not in (None, "string"):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(_("a JSON value")) from None
    return value


def form_data(schema: Mapping[str, Any], given: Mapping[str, Sequence[str]]
              ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The e-form data from the attribute values given (code -> values), and the
    problems found on the way, per `attribute[code]`."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    data: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name, raw in given.items():
        values = [v.strip() for v in raw if v.strip()]
        if name not in properties:
            problems.setdefault(f"attribute[{name}]", []).append(
                _("is not an attribute of this service")
            )
            continue
        if not values:
            continue
        spec = _spec(schema, name)
        try:
            if spec.get("type") == "array":
                items = _items(spec)
                if len(values) == 1 and not isinstance(items.get("enum"), list):
                    values = [part.strip() for part in values[0].replace("\n", ",").split(",")
                              if part.strip()]
                data[name] = [_typed(items, value) for value in values]
            else:
                value = _one(name, values, problems)
                if value is not None:
                    data[name] = _typed(spec, value)
        except ValueError as exc:
            problems.setdefault(f"attribute[{name}]", []).append(
                _("must be %(what)s") % {"what": exc}
            )
    return data, problems
