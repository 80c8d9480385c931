"""The red-flag configuration of a country pack (`integrity.yaml`), parsed and checked.

Pure: no Django. The pack file is optional; every value has a default (DEFAULTS), so a
pack only writes what it changes. A flag is raised when its z-score against peers doing
the same service in the same period reaches the flag's threshold and the subject has at
least `min_n` cases; the risk score of a subject is the sum over its raised flags of
`weight * min(z, z_cap)`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# the twelve indicators of docs/redflags.md, in the order of DOMAIN.md
FLAG_CODES: tuple[str, ...] = (
    "refusal_rate",          # 1 refusal rate far above peers
    "refuse_then_approve",   # 2 refused, then approved soon after for the same applicant
    "overturned_refusals",   # 3 refusals overturned on complaint
    "deadline_riding",       # 4 completions bunched at the deadline, repeated stops
    "out_of_order",          # 5 tickets served while older tickets waited
    "slot_hoarding",         # 6 appointment slots booked by one identity, no-shows
    "intermediary",          # 7 many applications filed by one intermediary
    "counter_time",          # 8 counter times far too short or far too long
    "off_hours",             # 9 decisions outside working hours
    "rating_burst",          # 10 bursts of top ratings from one device
    "complaint_rate",        # 11 complaints per 1,000 served above peers
    "extra_documents",       # 12 documents requested beyond the standard's list
)

SUBJECT_KINDS: tuple[str, ...] = ("officer", "operator", "unit", "centre", "citizen")

DEFAULTS: dict[str, Any] = {
    "version": "default",
    "z_threshold": 3.0,
    "z_cap": 10.0,
    "min_n": 10,
    "min_peers": 1,
    "params": {
        "min_hits": 5,               # a rate flag needs this many suspicious cases
        "rethink_days": 30,          # 2: approval within this many days of the refusal
        "riding_hours": 24,          # 4: completed within this many hours of the deadline
        "repeated_stops": 2,         # 4: this many "documents requested" stops or more
        "short_seconds": 90,         # 8: a counter visit shorter than this
        "long_seconds": 3600,        # 8: a counter visit longer than this
        "work_start_hour": 8,        # 9: local working hours [start, end)
        "work_end_hour": 20,
        "burst_ratings": 5,          # 10: top ratings from one device in one day
        "top_score": 5,              # 10: the mean score that counts as a top rating
        "hoard_min": 5,              # 6: appointments booked by one identity
        "intermediary_min": 5,       # 7: applicants one filer filed for
    },
    "flags": {code: {"weight": 1.0} for code in FLAG_CODES},
}


class FlagsConfigError(Exception):
    """An integrity.yaml that cannot be used; the message says where."""


@dataclass(frozen=True)
class FlagRule:
    code: str
    weight: float
    z_threshold: float
    min_n: int
    enabled: bool


@dataclass(frozen=True)
class FlagsConfig:
    version: str
    z_cap: float
    min_peers: int
    params: Mapping[str, float]
    rules: Mapping[str, FlagRule]
    sha256: str

    def rule(self, code: str) -> FlagRule:
        return self.rules[code]

    def param(self, name: str) -> float:
        return float(self.params[name])

    def score(self, code: str, z: float) -> float:
        """The risk points a raised flag adds: weight times the capped z."""
        rule = self.rules[code]
        return round(rule.weight * min(abs(z), self.z_cap), 4)


def _number(where: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FlagsConfigError(f"{where}: {value!r} is not a number")
    if value < minimum:
        raise FlagsConfigError(f"{where}: {value!r} is below {minimum:g}")
    return float(value)


def parse(document: Mapping[str, Any] | None) -> FlagsConfig:
    """A checked configuration from the pack document (None or {} gives the defaults)."""
    document = dict(document or {})
    unknown = set(document) - {"version", "z_threshold", "z_cap", "min_n", "min_peers",
                               "params", "flags"}
    if unknown:
        raise FlagsConfigError(f"unknown keys: {', '.join(sorted(unknown))}")
    version = str(document.get("version", DEFAULTS["version"]))
    z_threshold = _number("z_threshold", document.get("z_threshold", DEFAULTS["z_threshold"]),
                          minimum=0.5)
    z_cap = _number("z_cap", document.get("z_cap", DEFAULTS["z_cap"]), minimum=1.0)
    min_n = int(_number("min_n", document.get("min_n", DEFAULTS["min_n"]), minimum=1))
    min_peers = int(_number("min_peers", document.get("min_peers", DEFAULTS["min_peers"]),
                            minimum=1))
    params = dict(DEFAULTS["params"])
    given = document.get("params") or {}
    if not isinstance(given, Mapping):
        raise FlagsConfigError("params: a mapping of names to numbers")
    for name, value in given.items():
        if name not in params:
            raise FlagsConfigError(f"params: unknown parameter {name!r}")
        params[name] = _number(f"params.{name}", value)
    if not params["work_start_hour"] < params["work_end_hour"] <= 24:
        raise FlagsConfigError("params: work_start_hour must come before work_end_hour (<= 24)")
    flags = document.get("flags") or {}
    if not isinstance(flags, Mapping):
        raise FlagsConfigError("flags: a mapping of flag codes to settings")
    rules: dict[str, FlagRule] = {}
    for code in FLAG_CODES:
        entry = flags.get(code) or {}
        if not isinstance(entry, Mapping):
            raise FlagsConfigError(f"flags.{code}: a mapping")
        extra = set(entry) - {"weight", "z_threshold", "min_n", "enabled"}
        if extra:
            raise FlagsConfigError(f"flags.{code}: unknown keys {', '.join(sorted(extra))}")
        rules[code] = FlagRule(
            code=code,
            weight=_number(f"flags.{code}.weight", entry.get("weight", 1.0)),
            z_threshold=_number(f"flags.{code}.z_threshold",
                                entry.get("z_threshold", z_threshold), minimum=0.5),
            min_n=int(_number(f"flags.{code}.min_n", entry.get("min_n", min_n), minimum=1)),
            enabled=bool(entry.get("enabled", True)),
        )
    strange = set(flags) - set(FLAG_CODES)
    if strange:
        raise FlagsConfigError(f"flags: unknown flag codes {', '.join(sorted(strange))}")
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()
                            ).hexdigest()
    return FlagsConfig(version=version, z_cap=z_cap, min_peers=min_peers, params=params,
                       rules=rules, sha256=digest)


# --------------------------------------------------------------------------- statistics


def binomial_z(k: float, n: float, peer_k: float, peer_n: float) -> float:
    """How far `k` of `n` lies above the peers' rate, in standard errors; the peers' rate
    is smoothed (half a case over one more trial) so a rate of zero among peers still
    gives a finite z."""
    if n <= 0:
        return 0.0
    p = (peer_k + 0.5) / (peer_n + 1.0)
    p = min(max(p, 1e-6), 1 - 1e-6)
    return (k - n * p) / ((n * p * (1 - p)) ** 0.5)


def mean_z(value: float, peers: list[float]) -> float:
    """How far `value` lies from the peers' mean in peer standard deviations (0 when the
    peers do not vary)."""
    if len(peers) < 2:
        return 0.0
    mean = sum(peers) / len(peers)
    var = sum((p - mean) ** 2 for p in peers) / (len(peers) - 1)
    if var <= 0:
        return 0.0
    return (value - mean) / var ** 0.5
