"""Filled-in e-forms for demo applications, valid against the standard's JSON Schema.

Pure Python (no Django). `FormMaker` reads a standard's e-form once and then fills it for
each application from a random generator: the applicant's own national ID, phone and
email where the form asks for them, plausible names and dates, every required field and
about half of the optional ones. `pattern_value` writes a string matching the simple
regular expressions packs use for identifiers (`^[0-9]{12}$`, `^\\+7[0-9]{10}$`,
`^KZ[0-9]{2}[0-9A-Z]{16}$`, `^([01][0-9]|2[0-3]):[0-5][0-9]$`).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from onestop.catalogue.packs import APPLICANT_ID, APPLICANT_PHONE

# --- strings for a pattern -----------------------------------------------------------

_CLASS_SHORTHANDS = {"d": string.digits, "w": string.ascii_letters + string.digits + "_"}

# A parsed pattern: a sequence of (alternatives | character set, min, max).
_Node = tuple[Any, int, int]


class PatternUnsupported(ValueError):
    """A pattern this small generator does not understand."""


def _parse_class(pattern: str, i: int) -> tuple[str, int]:
    """The characters of `[...]` starting at pattern[i] == '['; returns (chars, next i)."""
    i += 1
    negate = pattern[i] == "^"
    if negate:
        raise PatternUnsupported(f"negated character class in {pattern!r}")
    chars: list[str] = []
    while pattern[i] != "]":
        ch = pattern[i]
        if ch == "\\":
            i += 1
            ch = pattern[i]
            chars.extend(_CLASS_SHORTHANDS.get(ch, ch))
            i += 1
            continue
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            chars.extend(chr(c) for c in range(ord(ch), ord(pattern[i + 2]) + 1))
            i += 3
            continue
        chars.append(ch)
        i += 1
    return "".join(dict.fromkeys(chars)), i + 1


def _parse_seq(pattern: str, i: int) -> tuple[list[list[_Node]], int]:
    """Alternatives of sequences until ')' or the end; returns (alternatives, next i)."""
    alternatives: list[list[_Node]] = [[]]
    while i < len(pattern) and pattern[i] != ")":
        ch = pattern[i]
        if ch == "|":
            alternatives.append([])
            i += 1
            continue
        atom: Any
        if ch == "[":
            atom, i = _parse_class(pattern, i)
        elif ch == "(":
            atom, i = _parse_seq(pattern, i + 1)
            i += 1  # the ')'
        elif ch == "\\":
            atom = _CLASS_SHORTHANDS.get(pattern[i + 1], pattern[i + 1])
            i += 2
        elif ch in "^$":
            i += 1
            continue
        elif ch == ".":
            atom = string.ascii_letters + string.digits
            i += 1
        else:
            atom = ch
            i += 1
        low, high = 1, 1
        if i < len(pattern) and pattern[i] in "{?*+":
            if pattern[i] == "{":
                end = pattern.index("}", i)
                bounds = pattern[i + 1 : end].split(",")
                low = int(bounds[0])
                high = int(bounds[1]) if len(bounds) > 1 and bounds[1] else low
                if len(bounds) > 1 and not bounds[1]:
                    high = low + 5
                i = end + 1
            else:
                low, high = {"?": (0, 1), "*": (0, 3), "+": (1, 3)}[pattern[i]]
                i += 1
        alternatives[-1].append((atom, low, high))
    return alternatives, i


def _render(alternatives: list[list[_Node]], rng: Any, out: list[str]) -> None:
    sequence = alternatives[rng.randrange(len(alternatives))] if len(alternatives) > 1 else (
        alternatives[0]
    )
    for atom, low, high in sequence:
        count = low if low == high else rng.randint(low, high)
        for _ in range(count):
            if isinstance(atom, str):
                out.append(atom if len(atom) == 1 else atom[rng.randrange(len(atom))])
            else:
                _render(atom, rng, out)


_compiled: dict[str, Callable[[Any], str]] = {}


def _compile(pattern: str) -> Callable[[Any], str]:
    parsed, end = _parse_seq(pattern, 0)
    if end != len(pattern):
        raise PatternUnsupported(f"unbalanced ')' in {pattern!r}")
    flat = parsed[0] if len(parsed) == 1 else None
    if flat is not None and all(isinstance(atom, str) for atom, _, _ in flat):
        # no groups: each piece is a literal or a character set, drawn in one call
        pieces = [(atom, low, high) for atom, low, high in flat]

        def render_flat(rng: Any) -> str:
            out: list[str] = []
            choices = getattr(rng, "choices", None)
            for chars, low, high in pieces:
                count = low if low == high else rng.randint(low, high)
                if len(chars) == 1:
                    out.append(chars * count)
                elif choices is not None:
                    out.extend(choices(chars, k=count))
                else:
                    out.extend(chars[rng.randrange(len(chars))] for _ in range(count))
            return "".join(out)

        return render_flat

    def render(rng: Any) -> str:
        out: list[str] = []
        _render(parsed, rng, out)
        return "".join(out)

    return render


def pattern_value(pattern: str, rng: Any) -> str:
    """A string that fully matches `pattern` (a simple regular expression); `rng` is a
    `random.Random` or anything with its `randrange` and `randint`."""
    render = _compiled.get(pattern)
    if render is None:
        render = _compiled[pattern] = _compile(pattern)
    return render(rng)


# --- a whole form --------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """What the form may ask about the applicant."""

    national_id: str
    name: str
    phone: str
    email: str


@dataclass(frozen=True)
class FormContext:
    """What a form's values are drawn from: the date and the country's conventions."""

    on: date
    language: str
    id_pattern: str | None
    make_id: Callable[[random.Random, date], str]
    texts: Callable[[str, random.Random], str]


Filler = Callable[[random.Random, Applicant, FormContext], Any]

_FUTURE_DATE_WORDS = ("preferred", "desired", "start", "_from", "planned")
_END_DATE_WORDS = ("_to", "until", "end")
_CHILD_WORDS = ("child", "newborn")
_BIRTH_WORDS = ("birth",)
_RECENT_WORDS = ("death", "arrival", "event", "registration", "dismissal", "entry", "as_of")


def _date_filler(name: str) -> Filler:
    def fill(rng: random.Random, who: Applicant, ctx: FormContext) -> str:
        if any(w in name for w in _BIRTH_WORDS):
            days = rng.randint(1, 60) if any(w in name for w in _CHILD_WORDS) else rng.randint(
                18 * 365, 70 * 365
            )
            return (ctx.on - timedelta(days=days)).isoformat()
        if any(w in name for w in _END_DATE_WORDS):
            return (ctx.on + timedelta(days=rng.randint(31, 120))).isoformat()
        if any(w in name for w in _FUTURE_DATE_WORDS):
            return (ctx.on + timedelta(days=rng.randint(1, 30))).isoformat()
        if any(w in name for w in _RECENT_WORDS):
            return (ctx.on - timedelta(days=rng.randint(0, 45))).isoformat()
        return (ctx.on - timedelta(days=rng.randint(0, 365))).isoformat()

    return fill


def _string_filler(name: str, spec: Mapping[str, Any]) -> Filler:
    limit = int(spec.get("maxLength", 200))
    minimum = int(spec.get("minLength", 0))

    def fill(rng: random.Random, who: Applicant, ctx: FormContext) -> str:
        text = ctx.texts(name, rng)[:limit]
        return text if len(text) >= minimum else text.ljust(minimum, "0")

    return fill


def _filler(name: str, spec: Mapping[str, Any], ctx_id_pattern: str | None) -> Filler:
    if "const" in spec:
        value = spec["const"]
        return lambda rng, who, ctx: value
    if "enum" in spec:
        choices = list(spec["enum"])
        return lambda rng, who, ctx: choices[rng.randrange(len(choices))]
    kind = spec.get("type", "string")
    if kind == "boolean":
        return lambda rng, who, ctx: rng.random() < 0.5
    if kind == "integer":
        low = int(spec.get("minimum", 0))
        if "exclusiveMinimum" in spec:
            low = int(spec["exclusiveMinimum"]) + 1
        high = int(spec.get("maximum", low + 1000))
        if "exclusiveMaximum" in spec:
            high = int(spec["exclusiveMaximum"]) - 1
        return lambda rng, who, ctx: rng.randint(low, max(low, high))
    if kind == "number":
        return _number_filler(spec)
    if kind == "array":
        return _array_filler(name, spec, ctx_id_pattern)
    if kind == "object":
        maker = FormMaker(dict(spec), ctx_id_pattern)
        return lambda rng, who, ctx: maker.fill(rng, who, ctx)
    # strings
    if spec.get(APPLICANT_ID) is True:  # the applicant's own national ID
        return lambda rng, who, ctx: who.national_id
    if spec.get(APPLICANT_PHONE) is True and "pattern" in spec:  # the applicant's own
        pattern = str(spec["pattern"])
        return lambda rng, who, ctx: who.phone if who.phone else pattern_value(pattern, rng)
    if spec.get("format") == "email":
        return lambda rng, who, ctx: who.email or f"demo{rng.randrange(10**6)}@example.org"
    if spec.get("format") == "date":
        return _date_filler(name)
    if "pattern" in spec:
        pattern = str(spec["pattern"])
        if ctx_id_pattern is not None and pattern == ctx_id_pattern:
            return lambda rng, who, ctx: ctx.make_id(rng, ctx.on)
        return lambda rng, who, ctx: pattern_value(pattern, rng)
    return _string_filler(name, spec)


def _number_filler(spec: Mapping[str, Any]) -> Filler:
    low = float(spec.get("minimum", spec.get("exclusiveMinimum", 0)))
    high = float(spec.get("maximum", spec.get("exclusiveMaximum", low + 500)))
    high = min(high, low + 500)
    if "exclusiveMaximum" in spec:
        high -= 0.5

    def fill(rng: random.Random, who: Applicant, ctx: FormContext) -> float:
        if low + 0.5 >= high:
            return high
        return round(rng.uniform(low + 0.5, high - 0.1), 1)

    return fill


def _array_filler(name: str, spec: Mapping[str, Any], id_pattern: str | None) -> Filler:
    items = spec.get("items", {})
    low = int(spec.get("minItems", 0))
    high = max(low, min(int(spec.get("maxItems", low + 2)), low + 2))
    unique = bool(spec.get("uniqueItems"))
    item = _filler(name, items, id_pattern)
    choices = list(items.get("enum", [])) if isinstance(items, Mapping) else []

    def fill(rng: random.Random, who: Applicant, ctx: FormContext) -> list[Any]:
        count = rng.randint(max(low, 1 if choices else low), high)
        if choices:
            return rng.sample(choices, min(count, len(choices)))
        values: list[Any] = []
        for _ in range(count * 3):
            if len(values) == count:
                break
            value = item(rng, who, ctx)
            if not unique or value not in values:
                values.append(value)
        return values

    return fill


class FormMaker:
    """Fills one e-form (a JSON Schema of an object) with plausible values."""

    def __init__(self, schema: Mapping[str, Any], id_pattern: str | None) -> None:
        properties: Mapping[str, Any] = schema.get("properties", {}) or {}
        required = set(schema.get("required", []) or [])
        # by name: PostgreSQL's jsonb does not keep the order a pack wrote the fields in,
        # and the same seed must give the same forms on every database
        self.fields: list[tuple[str, bool, Filler]] = [
            (name, name in required, _filler(name, properties[name], id_pattern))
            for name in sorted(properties)
            if isinstance(properties[name], Mapping)
        ]

    def fill(
        self,
        rng: random.Random,
        who: Applicant,
        ctx: FormContext,
        known: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The form: every required field, about half of the optional ones; `known`
        values (a proactive service's prefill) win."""
        form: dict[str, Any] = {}
        for name, required, fill in self.fields:
            if known and name in known:
                form[name] = known[name]
            elif required or rng.random() < 0.5:
                form[name] = fill(rng, who, ctx)
        return form
