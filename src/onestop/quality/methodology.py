"""The assessment methodology as data, and the scoring of units from their counts.

Pure Python (no Django, no Ibis). A methodology is a versioned definition read from a
country pack's `methodology.yaml` (format in docs/methodology.md):

- `indicators`: each a measure (one of MEASURES) with a weight in points and optional
  parameters; a measure's value is worked out here from the counts the Ibis queries
  return per unit (`onestop.quality.indicators`);
- `penalties`: minus `points_per_violation_per_1000` points per violation per 1,000
  applications submitted, at most `cap` points;
- `bands`: a unit's band is the first whose `above` its score exceeds (the last band has
  no `above` and takes the rest);
- `min_cases`: a unit with fewer cases (the `cases` count, applications finished in the
  period by default) is shown but not ranked;
- `channel_costs`: the unit cost of one transaction per channel, for cost per transaction.

Scoring: score = 100 x (sum of weight x value) / (sum of weights), over the scored
indicators (weight > 0) that have a value for the unit (an indicator without cases, e.g.
no complaints, drops out and the others are rescaled), minus the penalty, not below 0;
rounded to `precision` decimals. Weights are relative: 30/25/15/... out of 100 in the
example, but any total scores on 0..100. Ranking: the
ranked units by score, highest first; equal (rounded) scores share a rank (1, 2, 2, 4) and
are listed by unit key, so the same data always ranks the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCOPES = ("agency", "region", "centre", "service", "operator")

MEASURES = (
    "timeliness",
    "satisfaction",
    "lawful_refusals",
    "complaint_handling",
    "digital_take_up",
    "completion_rate",
    "internal_control",
    "queue_wait",
    "cost_per_transaction",
)
# the measures whose value is a share (0..1, higher is better) and so can carry a weight
SCORABLE = frozenset(MEASURES) - {"cost_per_transaction"}
# the counts a unit's cases may be taken from
CASE_COUNTS = ("finished", "submitted", "ratings", "served")
# the kinds of violation the control scans record (`onestop.control.models.ViolationKind`,
# kept equal by a test): a penalty counts some of them
VIOLATION_KINDS = (
    "deadline_missed", "deadline_near", "stage_overdue", "wait_over", "counter_time_over",
    "complaint_overdue", "refusal_ground", "extra_documents", "unjustified_refusal",
)

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class MethodologyError(ValueError):
    """A methodology definition that cannot be used; the message says what and where."""


@dataclass(frozen=True)
class Indicator:
    code: str
    measure: str
    weight: float
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Band:
    code: str
    above: float | None  # None: the last band, everything at or below the previous one
    name: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Methodology:
    version: str
    example: bool
    title: Mapping[str, str]
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...]
    min_cases: int
    cases: str
    penalty_points: float  # per violation per 1,000 applications
    penalty_cap: float
    penalty_kinds: tuple[str, ...]  # empty: every kind of violation
    channel_costs: Mapping[str, float]
    digital_channels: tuple[str, ...]
    finished_outcomes: tuple[str, ...]
    satisfied_at_or_above: int
    criteria: tuple[str, ...]
    upheld_decisions: tuple[str, ...]
    precision: int
    definition: Mapping[str, Any]  # the document as read, stored with each run

    @property
    def total_weight(self) -> float:
        return math.fsum(i.weight for i in self.indicators)

    @property
    def sha256(self) -> str:
        return definition_hash(self.definition)


def definition_hash(definition: Mapping[str, Any]) -> str:
    text = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- reading


def _number(value: Any, where: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MethodologyError(f"{where}: expected a number, got {value!r}")
    if value < minimum:
        raise MethodologyError(f"{where}: must be at least {minimum:g}, got {value!r}")
    return float(value)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise MethodologyError(f"{where}: expected a list of codes, got {value!r}")
    return tuple(value)


def _names(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise MethodologyError(f"{where}: expected texts by language, e.g. {{en: ...}}")
    return dict(value)


_TOP = {
    "format", "version", "example", "title", "indicators", "penalties", "bands", "min_cases",
    "cases", "channel_costs", "digital_channels", "finished_outcomes",
    "satisfied_at_or_above", "criteria", "upheld_decisions", "precision",
}


def parse(definition: Any) -> Methodology:
    """Check a methodology document (as loaded from YAML) and return it; a
    MethodologyError names the first problem found."""
    if not isinstance(definition, dict):
        raise MethodologyError("a methodology is a mapping with version, indicators, bands, ...")
    unknown = sorted(set(definition) - _TOP)
    if unknown:
        raise MethodologyError(f"unknown key(s): {', '.join(unknown)}")
    if definition.get("format", 1) != 1:
        raise MethodologyError(f"format: only format 1 is known, got {definition['format']!r}")
    version = definition.get("version")
    if not isinstance(version, str) or not _VERSION.match(version):
        raise MethodologyError(
            "version: required, letters, digits, '.', '_' or '-' (at most 32), "
            f"got {version!r}"
        )
    example = definition.get("example", False)
    if not isinstance(example, bool):
        raise MethodologyError("example: true or false")

    raw_indicators = definition.get("indicators")
    if not isinstance(raw_indicators, list) or not raw_indicators:
        raise MethodologyError("indicators: a non-empty list is required")
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_indicators, start=1):
        where = f"indicators[{position}]"
        if not isinstance(raw, dict):
            raise MethodologyError(f"{where}: expected a mapping with code, measure, weight")
        extra = sorted(set(raw) - {"code", "measure", "weight", "name", "params"})
        if extra:
            raise MethodologyError(f"{where}: unknown key(s): {', '.join(extra)}")
        code = raw.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise MethodologyError(f"{where}.code: a lower-case code is required, got {code!r}")
        if code in seen:
            raise MethodologyError(f"{where}.code: {code!r} appears twice")
        seen.add(code)
        measure = raw.get("measure", code)
        if measure not in MEASURES:
            raise MethodologyError(
                f"{where}.measure: {measure!r} is not one of {', '.join(MEASURES)}"
            )
        weight = _number(raw.get("weight", 0), f"{where}.weight")
        if weight > 0 and measure not in SCORABLE:
            raise MethodologyError(
                f"{where}.weight: {measure} is reported, not scored (it is not a share); "
                "give it weight 0"
            )
        params = raw.get("params", {})
        if not isinstance(params, dict):
            raise MethodologyError(f"{where}.params: expected a mapping")
        indicators.append(Indicator(code=code, measure=measure, weight=weight, params=params))
    if not any(i.weight > 0 for i in indicators):
        raise MethodologyError("indicators: at least one indicator needs a weight above 0")

    raw_bands = definition.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise MethodologyError("bands: a non-empty list is required")
    bands: list[Band] = []
    previous: float | None = None
    for position, raw in enumerate(raw_bands, start=1):
        where = f"bands[{position}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("code"), str):
            raise MethodologyError(f"{where}: expected a mapping with a code")
        last = position == len(raw_bands)
        above_raw = raw.get("above")
        if last:
            if above_raw is not None:
                raise MethodologyError(f"{where}.above: the last band takes every lower score")
            above = None
        else:
            above = _number(above_raw, f"{where}.above")
            if previous is not None and above >= previous:
                raise MethodologyError(f"{where}.above: bands go from the highest down")
            previous = above
        bands.append(Band(code=raw["code"], above=above, name=_names(raw.get("name"),
                                                                      f"{where}.name")))

    penalties = definition.get("penalties") or {}
    if not isinstance(penalties, dict):
        raise MethodologyError("penalties: expected a mapping")
    extra = sorted(set(penalties) - {"points_per_violation_per_1000", "cap", "kinds"})
    if extra:
        raise MethodologyError(f"penalties: unknown key(s): {', '.join(extra)}")

    penalty_kinds = _strings(penalties.get("kinds", []), "penalties.kinds")
    unknown_kinds = [kind for kind in penalty_kinds if kind not in VIOLATION_KINDS]
    if unknown_kinds:
        raise MethodologyError(
            f"penalties.kinds: {', '.join(unknown_kinds)} is not a kind of violation "
            f"(kinds: {', '.join(VIOLATION_KINDS)})"
        )
    penalty_points = _number(penalties.get("points_per_violation_per_1000", 0),
                             "penalties.points_per_violation_per_1000")
    penalty_cap = _number(penalties.get("cap", 0), "penalties.cap")

    cases = definition.get("cases", "finished")
    if cases not in CASE_COUNTS:
        raise MethodologyError(f"cases: one of {', '.join(CASE_COUNTS)}, got {cases!r}")
    costs = definition.get("channel_costs") or {}
    if not isinstance(costs, dict):
        raise MethodologyError("channel_costs: expected a mapping of channel to unit cost")
    channel_costs = {
        str(k): _number(v, f"channel_costs.{k}") for k, v in costs.items()
    }
    if any(i.measure == "cost_per_transaction" for i in indicators) and not channel_costs:
        raise MethodologyError("channel_costs: required by the cost_per_transaction indicator")
    criteria = _strings(definition.get("criteria", []), "criteria")
    if any(i.measure == "satisfaction" for i in indicators) and not criteria:
        raise MethodologyError("criteria: the rating criteria are required by satisfaction")
    satisfied = definition.get("satisfied_at_or_above", 4)
    if isinstance(satisfied, bool) or not isinstance(satisfied, int) or not 1 <= satisfied <= 5:
        raise MethodologyError("satisfied_at_or_above: a whole score from 1 to 5")
    min_cases = definition.get("min_cases", 0)
    if isinstance(min_cases, bool) or not isinstance(min_cases, int) or min_cases < 0:
        raise MethodologyError(f"min_cases: a whole number of at least 0, got {min_cases!r}")
    precision = definition.get("precision", 2)
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 6:
        raise MethodologyError("precision: decimals of the score, 0 to 6")

    return Methodology(
        version=version,
        example=example,
        title=_names(definition.get("title"), "title"),
        indicators=tuple(indicators),
        bands=tuple(bands),
        min_cases=min_cases,
        cases=cases,
        penalty_points=penalty_points,
        penalty_cap=penalty_cap,
        penalty_kinds=penalty_kinds,
        channel_costs=channel_costs,
        digital_channels=_strings(
            definition.get("digital_channels", ["portal", "api", "proactive"]),
            "digital_channels"),
        finished_outcomes=_strings(
            definition.get("finished_outcomes", ["issued", "refused"]), "finished_outcomes"),
        satisfied_at_or_above=satisfied,
        criteria=criteria,
        upheld_decisions=_strings(definition.get("upheld_decisions", ["upheld"]),
                                  "upheld_decisions"),
        precision=precision,
        definition=definition,
    )


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Value:
    """One indicator of one unit: its value (None when it has no cases) and its n."""

    value: float | None
    n: int
    detail: Mapping[str, float | None] = field(default_factory=dict)


def _share(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def indicator_value(methodology: Methodology, indicator: Indicator,
                    counts: Mapping[str, float]) -> Value:
    """The value of one indicator from a unit's counts (the names are those the queries
    in `onestop.quality.indicators` return; a missing count is 0)."""

    def c(name: str) -> float:
        return float(counts.get(name, 0) or 0)

    measure = indicator.measure
    if measure == "timeliness":
        late = _share(c("late"), c("finished"))
        return Value(None if late is None else 1 - late, int(c("finished")))
    if measure == "satisfaction":
        n = int(c("ratings"))
        detail: dict[str, float | None] = {}
        shares: list[float] = []
        for criterion in methodology.criteria:
            rated = c(f"rated_{criterion}")
            share = _share(c(f"satisfied_{criterion}"), rated)
            detail[f"{criterion}_share"] = share
            detail[f"{criterion}_mean"] = _share(c(f"score_sum_{criterion}"), rated)
            if share is not None:
                shares.append(share)
        detail["mean"] = _share(
            math.fsum(c(f"score_sum_{criterion}") for criterion in methodology.criteria),
            math.fsum(c(f"rated_{criterion}") for criterion in methodology.criteria),
        )
        value = math.fsum(shares) / len(shares) if shares else None
        return Value(value, n, detail)
    if measure == "lawful_refusals":
        overturned = _share(c("overturned"), c("refusals"))
        return Value(None if overturned is None else 1 - overturned, int(c("refusals")))
    if measure == "complaint_handling":
        in_time = _share(c("answered_in_time"), c("complaints"))
        upheld = _share(c("upheld"), c("decided"))
        value = None if in_time is None else in_time * (1 - (upheld or 0.0))
        return Value(value, int(c("complaints")),
                     {"answered_in_time_share": in_time, "upheld_share": upheld})
    if measure == "digital_take_up":
        return Value(_share(c("digital"), c("submitted")), int(c("submitted")))
    if measure == "completion_rate":
        return Value(_share(c("completed"), c("submitted")), int(c("submitted")))
    if measure == "internal_control":
        return Value(_share(c("violations_self"), c("violations")), int(c("violations")))
    if measure == "queue_wait":
        return Value(_share(c("served_in_time"), c("served")), int(c("served")))
    if measure == "cost_per_transaction":
        total = math.fsum(c(f"channel_{ch}") for ch in methodology.channel_costs)
        cost = math.fsum(
            unit_cost * c(f"channel_{ch}") for ch, unit_cost in methodology.channel_costs.items()
        )
        return Value(_share(cost, total), int(total))
    raise MethodologyError(f"unknown measure {measure!r}")  # pragma: no cover - parse() checks


def penalty(methodology: Methodology, counts: Mapping[str, float]) -> float:
    """Points taken off: k per violation per 1,000 applications submitted, capped."""
    submitted = float(counts.get("submitted", 0) or 0)
    violations = float(counts.get("penalised_violations", 0) or 0)
    if not submitted or not violations or not methodology.penalty_points:
        return 0.0
    points = methodology.penalty_points * violations * 1000 / submitted
    return min(points, methodology.penalty_cap) if methodology.penalty_cap else points


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class UnitScore:
    unit: str  # the unit's key (its id as text)
    n: int  # the unit's cases
    values: Mapping[str, Value]
    weighted: float | None  # the weighted score on 0..100, before the penalty
    penalty: float
    score: float | None
    band: str
    ranked: bool
    rank: int | None = None


def score_unit(methodology: Methodology, unit: str, counts: Mapping[str, float]) -> UnitScore:
    values = {i.code: indicator_value(methodology, i, counts) for i in methodology.indicators}
    scored = [(i.weight, values[i.code].value) for i in methodology.indicators if i.weight > 0]
    available = [(w, v) for w, v in scored if v is not None]
    n = int(counts.get(methodology.cases, 0) or 0)
    if not available:
        return UnitScore(unit, n, values, None, 0.0, None, "", False)
    weight = math.fsum(w for w, _ in available)
    weighted = 100 * math.fsum(w * v for w, v in available) / weight
    points = penalty(methodology, counts)
    score = round(max(0.0, weighted - points), methodology.precision)
    band = next(b.code for b in methodology.bands if b.above is None or score > b.above)
    ranked = n >= methodology.min_cases
    return UnitScore(unit, n, values, weighted, points, score, band, ranked)


def _unit_order(unit: str) -> tuple[int, int, str]:
    return (0, int(unit), "") if unit.isdigit() else (1, 0, unit)


def assess(methodology: Methodology,
           counts: Mapping[str, Mapping[str, float]]) -> list[UnitScore]:
    """Every unit's score, ranked units first by rank, then the unranked ones; ties share
    a rank (standard competition ranking) and are ordered by unit key."""
    scores = [score_unit(methodology, unit, c) for unit, c in counts.items()]
    ranked = sorted((s for s in scores if s.ranked and s.score is not None),
                    key=lambda s: (-(s.score or 0.0), _unit_order(s.unit)))
    out: list[UnitScore] = []
    previous: float | None = None
    rank = 0
    for position, item in enumerate(ranked, start=1):
        if item.score != previous:
            rank = position
            previous = item.score
        out.append(UnitScore(**{**item.__dict__, "rank": rank}))
    rest = sorted((s for s in scores if not (s.ranked and s.score is not None)),
                  key=lambda s: _unit_order(s.unit))
    out.extend(UnitScore(**{**s.__dict__, "ranked": False}) for s in rest)
    return out

