"""Reading and validating a country pack (pure: no database, no Django).

A pack is a folder of YAML files (format in docs/packs.md). `read_pack` returns the
parsed pack or raises `PackInvalid` with every problem found, each naming the file,
the entry and the field, so that a pack author can fix them all in one pass.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml

from onestop.applications.workflow import read_workflows
from onestop.core.calendar import rules_from_pack
from onestop.quality.methodology import MethodologyError
from onestop.quality.methodology import parse as parse_methodology

SHIPPED_PACKS = Path(__file__).resolve().parent.parent / "packs"
PACK_FILES = (
    "pack.yaml",
    "agencies.yaml",
    "life_situations.yaml",
    "workflows.yaml",
    "services.yaml",
    "centres.yaml",
)
# optional: the assessment methodology (onestop.quality.methodology parses it)
METHODOLOGY_FILE = "methodology.yaml"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.entry, self.field) if part)
        return f"{where}: {self.message}"


class PackInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"the pack has {len(problems)} problem(s)")


@dataclass
class Pack:
    path: Path
    country: dict[str, Any]
    calendar: dict[str, Any]
    agencies: list[dict[str, Any]] = field(default_factory=list)
    life_situations: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    centres: list[dict[str, Any]] = field(default_factory=list)
    workflows: list[dict[str, Any]] = field(default_factory=list)
    # the `queue` section: service groups, priority categories, appointment rules
    queue: dict[str, Any] = field(default_factory=dict)
    # the `feedback` section: rating criteria, complaint grounds and deadlines
    feedback: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.country["code"])

    @property
    def languages(self) -> list[str]:
        return list(self.country["languages"])


class _PackLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay strings and are checked as dates here."""


_PackLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def resolve_pack_path(name_or_path: str) -> Path:
    """A shipped pack by its code (`kz`), or any folder."""
    shipped = SHIPPED_PACKS / name_or_path
    if "/" not in name_or_path and (shipped / "pack.yaml").exists():
        return shipped
    return Path(name_or_path).expanduser().resolve()


def shipped_pack_codes() -> list[str]:
    return sorted(p.name for p in SHIPPED_PACKS.iterdir() if (p / "pack.yaml").exists())


# --- schemas -------------------------------------------------------------------------

DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
CODE = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"}
HHMM = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}
INTERVAL = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$"}
WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
HOURS = {
    "type": "object",
    "propertyNames": {"enum": WEEKDAY_NAMES},
    "additionalProperties": {"type": "array", "items": INTERVAL},
}
PERIOD = {
    "type": "object",
    "required": ["value", "unit"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": "integer", "minimum": 1, "maximum": 10000},
        "unit": {"enum": ["working_days", "calendar_days", "hours"]},
    },
}
CHANNELS = ["provider_office", "centre", "portal", "mobile", "kiosk", "proactive"]


def _text(state_language: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [state_language],
        "propertyNames": {"pattern": "^[a-z]{2}$"},
        "additionalProperties": {"type": "string", "minLength": 1},
    }


def _obj(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


def _dated(text: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": _obj(["date"], {"date": DATE, "reason": text})}


PACK_HEADER_SCHEMA: dict[str, Any] = _obj(
    ["format", "country", "calendar"],
    {
        "format": {"const": FORMAT_VERSION},
        "country": _obj(
            ["code", "name", "languages", "time_zone", "currency", "regions"],
            {
                "code": {"type": "string", "pattern": "^[a-z]{2}$"},
                "name": {"type": "object"},
                "languages": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"type": "string", "pattern": "^[a-z]{2}$"},
                },
                "time_zone": {"type": "string", "minLength": 1},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "regions": {"type": "array", "minItems": 1, "items": {"type": "object"}},
                "national_id_name": {"type": "object"},
            },
        ),
        "calendar": {"type": "object"},
        "queue": {"type": "object"},
        "feedback": {"type": "object"},
    },
)


def _schemas(lang: str) -> dict[str, dict[str, Any]]:
    text = _text(lang)
    optional_text = text
    return {
        "country": _obj(
            ["code", "name", "languages", "time_zone", "currency", "regions"],
            {
                **PACK_HEADER_SCHEMA["properties"]["country"]["properties"],
                "name": text,
                # what the country calls its national identification number (IIN, PINFL)
                "national_id_name": text,
                "regions": {
                    "type": "array",
                    "minItems": 1,
                    "items": _obj(["code", "name"], {"code": CODE, "name": text}),
                },
            },
        ),
        "calendar": _obj(
            ["holidays_country", "weekend", "working_hours"],
            {
                "holidays_country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "weekend": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"enum": WEEKDAY_NAMES},
                },
                "working_hours": _obj(["start", "end"], {"start": HHMM, "end": HHMM}),
                "hour_deadlines": {"enum": ["working_hours", "continuous"]},
                "extra_days_off": _dated(optional_text),
                "extra_working_days": _dated(optional_text),
                "removed_holidays": _dated(optional_text),
            },
        ),
        "queue": _obj(
            ["service_groups"],
            {
                "no_show_after_minutes": {"type": "integer", "minimum": 1, "maximum": 120},
                "max_future_appointments": {"type": "integer", "minimum": 1, "maximum": 50},
                "appointment_slot_minutes": {"type": "integer", "minimum": 5, "maximum": 240},
                "appointment_days_ahead": {"type": "integer", "minimum": 1, "maximum": 366},
                "appointment_early_minutes": {"type": "integer", "minimum": 0, "maximum": 120},
                "default_max_wait_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                "service_groups": {
                    "type": "array",
                    "minItems": 1,
                    "items": _obj(
                        ["code", "name"],
                        {
                            "code": {"type": "string", "pattern": "^[A-Z]{1,3}$"},
                            "name": text,
                            "purpose": {"enum": ["apply", "pickup", "consult"]},
                            "services": {
                                "type": "array",
                                "items": {"type": "string", "pattern": r"^\d{1,8}$"},
                            },
                            "default": {"type": "boolean"},
                        },
                    ),
                },
                "priority_categories": {
                    "type": "array",
                    "items": _obj(
                        ["code", "name", "rank"],
                        {
                            "code": CODE,
                            "name": text,
                            "rank": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                    ),
                },
            },
        ),
        "feedback": _obj(
            ["criteria", "grounds", "deadlines"],
            {
                "criteria": {
                    "type": "array",
                    "minItems": 1,
                    "items": _obj(["code", "name"], {"code": CODE, "name": text}),
                },
                "alert_at_or_below": {"type": "integer", "minimum": 1, "maximum": 5},
                "change_days": {"type": "integer", "minimum": 0, "maximum": 365},
                "anonymous_complaints": {"type": "boolean"},
                "grounds": {
                    "type": "array",
                    "minItems": 1,
                    "items": _obj(
                        ["code", "name"],
                        {
                            "code": CODE,
                            "name": text,
                            "subjects": {
                                "type": "array",
                                "minItems": 1,
                                "uniqueItems": True,
                                "items": {
                                    "enum": ["application", "agency", "centre", "operator"]
                                },
                            },
                        },
                    ),
                },
                "deadlines": _obj(
                    ["provider", "control"],
                    dict.fromkeys(("provider", "control"), PERIOD),
                ),
                "max_extension_days": {"type": "integer", "minimum": 0, "maximum": 366},
                "extension_notice": PERIOD,
            },
        ),
        "agencies": _obj(
            ["code", "name", "kind"],
            {
                "code": CODE,
                "name": text,
                "kind": {
                    "enum": [
                        "ministry",
                        "committee",
                        "agency",
                        "local_executive",
                        "state_corporation",
                        "territorial_unit",
                        "other",
                    ]
                },
                "parent": {"type": ["string", "null"]},
                "region": {"type": ["string", "null"]},
                "contacts": _obj(
                    [],
                    {
                        "address": text,
                        "phone": {"type": "string"},
                        "email": {"type": "string"},
                        "website": {"type": "string", "pattern": "^https?://"},
                    },
                ),
            },
        ),
        "life_situations": _obj(
            ["code", "number", "name"],
            {
                "code": CODE,
                "number": {"type": "string", "pattern": r"^\d{2}$"},
                "name": text,
                "description": text,
            },
        ),
        "services": _obj(
            ["code", "provider", "life_situations", "versions"],
            {
                "code": {"type": "string", "pattern": r"^\d{8}$"},
                "provider": {"type": "string"},
                "life_situations": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"type": "string"},
                },
                "workflow": {"type": "string"},
                "proactive_after": {"type": "string", "pattern": r"^\d{8}$"},
                "versions": {
                    "type": "array",
                    "minItems": 1,
                    "items": _obj(
                        [
                            "valid_from",
                            "name",
                            "channels",
                            "deadline",
                            "form",
                            "result",
                            "fee",
                            "documents",
                            "refusal_grounds",
                            "eform",
                        ],
                        {
                            "valid_from": DATE,
                            "name": text,
                            "description": text,
                            "legal_basis": text,
                            "channels": {
                                "type": "array",
                                "minItems": 1,
                                "uniqueItems": True,
                                "items": {"enum": CHANNELS},
                            },
                            "deadline": _obj(
                                ["value", "unit"],
                                {
                                    "value": {"type": "integer", "minimum": 1, "maximum": 10000},
                                    "unit": {"enum": ["working_days", "hours", "minutes"]},
                                },
                            ),
                            "max_wait_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                            "max_service_minutes": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 1440,
                            },
                            "form": {
                                "enum": ["electronic", "partly_automated", "paper", "proactive"]
                            },
                            "result": text,
                            "fee": _obj(
                                ["amount"],
                                {
                                    "amount": {
                                        "type": "string",
                                        "pattern": r"^\d{1,12}(\.\d{1,2})?$",
                                    },
                                    "note": text,
                                    "payment": {"type": "array", "items": {"type": "string"}},
                                },
                            ),
                            "schedule": text,
                            "documents": {
                                "type": "array",
                                "items": _obj(
                                    ["code", "name", "source"],
                                    {
                                        "code": CODE,
                                        "name": text,
                                        "source": {"enum": ["applicant", "state_database"]},
                                        "required": {"type": "boolean"},
                                    },
                                ),
                            },
                            "refusal_grounds": {
                                "type": "array",
                                "items": _obj(["code", "text"], {"code": CODE, "text": text}),
                            },
                            "other_requirements": text,
                            "eform": {"type": "object"},
                        },
                    ),
                },
            },
        ),
        "centres": _obj(
            ["code", "name", "region", "kind", "counters"],
            {
                "code": CODE,
                "name": text,
                "region": {"type": "string"},
                "kind": {"enum": ["centre", "branch", "duty", "specialised"]},
                "address": text,
                "counters": {"type": "integer", "minimum": 1, "maximum": 500},
                "opening_hours": HOURS,
                "breaks": HOURS,
                "counter_groups": {
                    "type": "array",
                    "items": _obj(
                        ["counters", "groups"],
                        {
                            "counters": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "integer", "minimum": 1},
                            },
                            "groups": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "string"},
                            },
                        },
                    ),
                },
            },
        ),
    }


# --- reading -------------------------------------------------------------------------


def _load_yaml(path: Path, problems: list[Problem]) -> Any:
    if not path.exists():
        problems.append(Problem(path.name, "", "", "file is missing"))
        return None
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_PackLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        problems.append(Problem(path.name, "", "", f"not valid YAML: {exc}"))
    except UnicodeDecodeError:
        problems.append(Problem(path.name, "", "", "not UTF-8 text"))
    return None


def _field_path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _entry_label(kind: str, entries: list[Any], index: int) -> str:
    entry = entries[index] if index < len(entries) else None
    code = entry.get("code") if isinstance(entry, dict) else None
    singular = {"agencies": "agency", "life_situations": "life situation",
                "services": "service", "centres": "centre"}[kind]
    return f"{singular} {code}" if isinstance(code, str) and code else f"{singular} #{index + 1}"


def _schema_problems(
    file: str, kind: str, entries: list[Any], schema: dict[str, Any]
) -> Iterator[Problem]:
    validator = jsonschema.Draft202012Validator(schema)
    for index, entry in enumerate(entries):
        for error in sorted(validator.iter_errors(entry), key=lambda e: list(e.absolute_path)):
            message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
            yield Problem(
                file,
                _entry_label(kind, entries, index),
                _field_path(list(error.absolute_path)),
                message,
            )


APPLICANT_ID = "x-applicant-id"
"""An e-form property marked `x-applicant-id: true` holds the applicant's own national ID
number: filled in from who the application is for (the signed-in citizen, the citizen the
operator serves, the API's applicant), never asked for twice, and refused when another
number is given (applications.services.submit)."""

APPLICANT_PHONE = "x-applicant-phone"
APPLICANT_EMAIL = "x-applicant-email"
"""Properties marked `x-applicant-phone: true` / `x-applicant-email: true` hold the
applicant's own contact phone / e-mail: the application's contact and the e-form's field
are one (each filled in from the other where one is left out), so the counter asks for it
once (applications.services.submit)."""

APPLICANT_MARKS = {APPLICANT_ID: "national ID", APPLICANT_PHONE: "phone",
                   APPLICANT_EMAIL: "e-mail"}
"""The marks of the applicant's own facts, with what each names (for the load's messages)."""

APPLICANT_FACTS = {"national_id": APPLICANT_ID, "phone": APPLICANT_PHONE,
                   "email": APPLICANT_EMAIL}
"""Each fact a submission gives of its applicant (as `services.submit` and the counter name
it), with the mark of the e-form field that holds it."""


def marked_properties(eform: Mapping[str, Any] | None, mark: str) -> list[str]:
    """The names of the properties of `eform` carrying `mark: true`."""
    properties = (eform or {}).get("properties") or {}
    return [name for name, spec in properties.items()
            if isinstance(spec, Mapping) and spec.get(mark) is True]


def applicant_id_properties(eform: Mapping[str, Any] | None) -> list[str]:
    """The names of the properties of `eform` marked as the applicant's own national ID."""
    return marked_properties(eform, APPLICANT_ID)


def _applicant_mark_problems(eform: Mapping[str, Any]) -> Iterator[str]:
    properties = eform.get("properties") or {}
    for mark, what in APPLICANT_MARKS.items():
        for name, spec in properties.items():
            if not isinstance(spec, Mapping) or mark not in spec:
                continue
            if spec[mark] is not True:
                yield f"properties.{name}.{mark}: only `true` is meaningful"
            elif spec.get("type") != "string":
                yield f"properties.{name}: the applicant's {what} is a string (type: string)"
        if len(marked_properties(eform, mark)) > 1:
            yield f"only one property may be the applicant's {what} ({mark})"


def _check_date(value: Any) -> str | None:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return f"{value!r} is not a real date"
    return None


def _duplicates(file: str, kind: str, entries: list[Any]) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        code = entry.get("code") if isinstance(entry, dict) else None
        if isinstance(code, str):
            if code in seen:
                yield Problem(file, _entry_label(kind, entries, index), "code", "duplicate code")
            seen.add(code)


def _codes(entries: list[Any]) -> set[str]:
    return {e["code"] for e in entries if isinstance(e, dict) and isinstance(e.get("code"), str)}


def _cross_problems(pack: Pack, broken: dict[str, set[int]]) -> Iterator[Problem]:
    """Problems between entries. Entries that already failed their schema are skipped
    here (their one problem is reported), but their codes still count as present."""
    regions = {r["code"] for r in pack.country["regions"]}
    agencies = {
        a["code"]: a
        for i, a in enumerate(pack.agencies)
        if i not in broken["agencies"] and isinstance(a, dict)
    }
    agency_codes = _codes(pack.agencies)
    situations = _codes(pack.life_situations)
    workflows = _codes(pack.workflows)
    service_codes = _codes(pack.services)
    groups = pack.queue.get("service_groups", [])
    group_codes = {g["code"] for g in groups}

    if len(group_codes) != len(groups):
        yield Problem("pack.yaml", "queue", "service_groups", "duplicate code")
    if groups and sum(1 for g in groups if g.get("default")) != 1:
        yield Problem(
            "pack.yaml", "queue", "service_groups",
            "exactly one group must be the default (default: true)",
        )
    categories = [c["code"] for c in pack.queue.get("priority_categories", [])]
    if len(categories) != len(set(categories)):
        yield Problem("pack.yaml", "queue", "priority_categories", "duplicate code")
    for key in ("criteria", "grounds"):
        codes = [item["code"] for item in pack.feedback.get(key, [])]
        if len(codes) != len(set(codes)):
            yield Problem("pack.yaml", "feedback", key, "duplicate code")

    try:
        ZoneInfo(pack.country["time_zone"])
    except (ZoneInfoNotFoundError, ValueError):
        yield Problem("pack.yaml", "country", "time_zone", "unknown time zone")
    for key in ("extra_days_off", "extra_working_days", "removed_holidays"):
        for index, item in enumerate(pack.calendar.get(key, [])):
            if problem := _check_date(item["date"]):
                yield Problem("pack.yaml", "calendar", f"{key}[{index}].date", problem)
    try:
        rules_from_pack(pack.calendar, pack.country["time_zone"])
    except (ValueError, KeyError) as exc:
        yield Problem("pack.yaml", "calendar", "", str(exc))

    for index, agency in enumerate(pack.agencies):
        if index in broken["agencies"]:
            continue
        label = _entry_label("agencies", pack.agencies, index)
        parent = agency.get("parent")
        if parent is not None and parent not in agency_codes:
            yield Problem("agencies.yaml", label, "parent", f"no agency {parent!r} in the pack")
        if agency.get("region") is not None and agency["region"] not in regions:
            yield Problem("agencies.yaml", label, "region", f"no region {agency['region']!r}")
        # a parent chain must end: a cycle would make scoping loop forever
        chain, cursor = {agency["code"]}, parent
        while cursor in agencies:
            if cursor in chain:
                yield Problem("agencies.yaml", label, "parent", "agency parents form a cycle")
                break
            chain.add(cursor)
            cursor = agencies[cursor].get("parent")

    for index, service in enumerate(pack.services):
        if index in broken["services"]:
            continue
        label = _entry_label("services", pack.services, index)
        if service["provider"] not in agency_codes:
            yield Problem(
                "services.yaml", label, "provider", f"no agency {service['provider']!r}"
            )
        after = service.get("proactive_after")
        if after is not None and (after == service["code"] or after not in service_codes):
            yield Problem(
                "services.yaml", label, "proactive_after",
                f"{after!r} is not another service of the pack",
            )
        if service.get("workflow", "simple_approval") not in workflows:
            yield Problem(
                "services.yaml", label, "workflow",
                f"no workflow {service.get('workflow', 'simple_approval')!r} in workflows.yaml",
            )
        for situation in service["life_situations"]:
            if situation not in situations:
                yield Problem(
                    "services.yaml", label, "life_situations",
                    f"no life situation {situation!r}",
                )
        seen_dates: set[str] = set()
        for v_index, version in enumerate(service["versions"]):
            where = f"versions[{v_index}]"
            if problem := _check_date(version["valid_from"]):
                yield Problem("services.yaml", label, f"{where}.valid_from", problem)
            if version["valid_from"] in seen_dates:
                yield Problem(
                    "services.yaml", label, f"{where}.valid_from",
                    "two versions apply from the same date",
                )
            seen_dates.add(version["valid_from"])
            try:
                jsonschema.Draft202012Validator.check_schema(version["eform"])
            except jsonschema.SchemaError as exc:
                yield Problem(
                    "services.yaml", label, f"{where}.eform",
                    f"not a valid JSON Schema: {exc.message}",
                )
            for problem in _applicant_mark_problems(version["eform"]):
                yield Problem("services.yaml", label, f"{where}.eform", problem)
            for kind in ("documents", "refusal_grounds"):
                codes = [item["code"] for item in version[kind]]
                if len(codes) != len(set(codes)):
                    yield Problem("services.yaml", label, f"{where}.{kind}", "duplicate code")

    for index, centre in enumerate(pack.centres):
        if index in broken["centres"]:
            continue
        label = _entry_label("centres", pack.centres, index)
        if centre["region"] not in regions:
            yield Problem("centres.yaml", label, "region", f"no region {centre['region']!r}")
        for key in ("opening_hours", "breaks"):
            for day, intervals in centre.get(key, {}).items():
                for interval in intervals:
                    start, end = interval.split("-")
                    if start >= end:
                        yield Problem(
                            "centres.yaml", label, f"{key}.{day}",
                            f"{interval!r} ends before it starts",
                        )
        for g_index, item in enumerate(centre.get("counter_groups", [])):
            where = f"counter_groups[{g_index}]"
            for number in item["counters"]:
                if number > centre["counters"]:
                    yield Problem(
                        "centres.yaml", label, f"{where}.counters",
                        f"counter {number} is beyond the centre's {centre['counters']} counters",
                    )
            for group in item["groups"]:
                if group not in group_codes:
                    yield Problem(
                        "centres.yaml", label, f"{where}.groups",
                        f"no service group {group!r} in pack.yaml queue.service_groups",
                    )


def read_pack(path: Path) -> Pack:
    """Parse and validate the pack in `path`; raise PackInvalid listing every problem."""
    problems: list[Problem] = []
    if not path.is_dir():
        raise PackInvalid([Problem(str(path), "", "", "no such pack folder")])
    raw = {name: _load_yaml(path / name, problems) for name in PACK_FILES}
    if problems:
        raise PackInvalid(problems)

    header = raw["pack.yaml"]
    header_errors = list(
        jsonschema.Draft202012Validator(PACK_HEADER_SCHEMA).iter_errors(header or {})
    )
    if header_errors:
        raise PackInvalid(
            [
                Problem("pack.yaml", "", _field_path(list(e.absolute_path)), e.message)
                for e in header_errors
            ]
        )
    state_language = header["country"]["languages"][0]
    schemas = _schemas(state_language)

    for error in jsonschema.Draft202012Validator(schemas["country"]).iter_errors(
        header["country"]
    ):
        problems.append(
            Problem("pack.yaml", "country", _field_path(list(error.absolute_path)), error.message)
        )
    for error in jsonschema.Draft202012Validator(schemas["calendar"]).iter_errors(
        header["calendar"]
    ):
        problems.append(
            Problem("pack.yaml", "calendar", _field_path(list(error.absolute_path)), error.message)
        )

    for section in ("queue", "feedback"):
        if section not in header:
            continue
        for error in jsonschema.Draft202012Validator(schemas[section]).iter_errors(
            header[section]
        ):
            problems.append(
                Problem("pack.yaml", section, _field_path(list(error.absolute_path)),
                        error.message)
            )

    header_broken = bool(problems)
    lists: dict[str, list[Any]] = {}
    broken: dict[str, set[int]] = {}
    for kind in ("agencies", "life_situations", "services", "centres"):
        file = f"{kind}.yaml"
        entries = raw[file]
        if not isinstance(entries, list):
            problems.append(Problem(file, "", "", "must be a list of entries"))
            entries = []
        lists[kind] = entries
        kind_problems = list(_schema_problems(file, kind, entries, schemas[kind]))
        labels = {p.entry for p in kind_problems}
        broken[kind] = {
            i for i in range(len(entries)) if _entry_label(kind, entries, i) in labels
        }
        problems.extend(kind_problems)
        problems.extend(_duplicates(file, kind, entries))

    pack = Pack(
        path=path,
        country=header["country"],
        calendar=header["calendar"],
        agencies=lists["agencies"],
        life_situations=lists["life_situations"],
        services=lists["services"],
        centres=lists["centres"],
        queue=header.get("queue") or {},
        feedback=header.get("feedback") or {},
    )
    _, workflow_problems = read_workflows(raw["workflows.yaml"], state_language)
    problems.extend(
        Problem("workflows.yaml", entry, where, message)
        for entry, where, message in workflow_problems
    )
    if isinstance(raw["workflows.yaml"], list):
        pack.workflows = raw["workflows.yaml"]
    if not header_broken:
        problems.extend(_cross_problems(pack, broken))
    problems.extend(_methodology_problems(path, pack))
    if problems:
        raise PackInvalid(problems)
    return pack


_WHERE = re.compile(r"^(?P<entry>[a-z_]+(?:\[\d+\])?)(?:\.(?P<field>[A-Za-z0-9_.\[\]-]+))?$")


def _methodology_problems(path: Path, pack: Pack) -> Iterator[Problem]:
    """The pack's optional methodology.yaml, checked as the assessment will read it
    (`onestop.quality.methodology.parse`: it names the first problem), and its rating
    criteria against the pack's feedback section."""
    file = path / METHODOLOGY_FILE
    if not file.exists():
        return
    try:  # read as the assessment reads it (implicit dates included)
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        yield Problem(METHODOLOGY_FILE, "", "", f"not valid YAML: {exc}")
        return
    except UnicodeDecodeError:
        yield Problem(METHODOLOGY_FILE, "", "", "not UTF-8 text")
        return
    try:
        methodology = parse_methodology(document)
    except MethodologyError as exc:
        where, sep, message = str(exc).partition(": ")
        match = _WHERE.match(where) if sep else None
        if match is None:
            yield Problem(METHODOLOGY_FILE, "", "", str(exc))
        else:
            yield Problem(METHODOLOGY_FILE, match["entry"], match["field"] or "", message)
        return
    criteria = pack.feedback.get("criteria") if isinstance(pack.feedback, dict) else None
    if isinstance(criteria, list) and criteria:
        known = {str(c.get("code")) for c in criteria if isinstance(c, dict)}
        unknown = [c for c in methodology.criteria if c not in known]
        if unknown:
            yield Problem(
                METHODOLOGY_FILE, "criteria", "",
                f"{', '.join(unknown)}: not a rating criterion of pack.yaml's feedback "
                f"section ({', '.join(sorted(known))})",
            )
