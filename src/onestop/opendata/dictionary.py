"""The datasets of the open data and their columns (the data dictionary), and the rule
that suppresses small cells. Pure: no Django.

Every column has a name, a type (string, integer, number, boolean), a unit and a meaning.
A figure computed over a group of cases names that group's size in `base`: it is
published only when the base is at least THRESHOLD (see `suppress`). The strings are
marked with `_` so the page of the dictionary can show them translated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

THRESHOLD = 10  # cells with fewer cases are suppressed (or merged into "_other")
SCOPES = ("service", "agency", "region", "centre")
OTHER = "_other"


def _(text: str) -> str:
    """Marks a string for translation (the page translates it when shown)."""
    return text


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | integer | number | boolean
    unit: str
    meaning: str
    base: str | None = None  # the column(s), space-separated, counting the cases behind it

    def as_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "type": self.type, "unit": self.unit,
               "meaning": self.meaning}
        if self.base:
            out["base"] = self.base
        return out


@dataclass(frozen=True)
class Dataset:
    code: str
    title: str
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "description": self.description,
                "columns": [c.as_dict() for c in self.columns]}

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


SCOPE_WORDS = {"service": _("service"), "agency": _("agency"), "region": _("region"),
               "centre": _("one-stop-shop centre")}

_PERIOD = Column("period", "string", "", _(
    "The reporting period: a year (2026), a half (2026-H2), a quarter (2026-Q3) or a month "
    "(2026-07), in the country's local dates."))
_SUPPRESSED = Column("suppressed", "string", "", _(
    "The names of the columns of this row left empty because fewer than 10 cases are "
    "behind them, separated by spaces (empty when none)."))


def _unit_columns(scope: str) -> tuple[Column, ...]:
    return (
        _PERIOD,
        Column("unit_code", "string", "", _("The code of the unit in the register.")),
        Column("unit_name", "string", "", _("The name of the unit, in English when the pack "
                                            "gives one, else in the pack's first language "
                                            "that has one.")),
    )


def performance(scope: str, channels: Sequence[str], criteria: Sequence[str]) -> Dataset:
    """One row per unit of `scope`: volumes, timeliness, refusals, channel mix,
    satisfaction, complaints, violations and queue waits."""
    cols: list[Column] = list(_unit_columns(scope))
    cols += [
        Column("applications_received", "integer", _("applications"), _(
            "Applications submitted in the period (every channel).")),
        *(Column(f"received_{ch}", "integer", _("applications"),
                 _("Applications submitted in the period through this channel."),
                 base="applications_received") for ch in channels),
        Column("digital_share", "number", _("share 0-1"), _(
            "Share of the applications received submitted through a digital channel of the "
            "methodology (portal, API, proactive)."), base="applications_received"),
        Column("applications_completed", "integer", _("applications"), _(
            "Applications finished in the period (issued or refused, the finished outcomes "
            "of the methodology).")),
        Column("completed_on_time", "integer", _("applications"), _(
            "Finished applications finished by their deadline (the deadline as moved by the "
            "clock's stops)."), base="applications_completed"),
        Column("deadline_compliance", "number", _("share 0-1"), _(
            "completed_on_time / applications_completed."), base="applications_completed"),
        Column("processing_days_median", "number", _("calendar days"), _(
            "Median time from submission to the result of the finished applications, in "
            "calendar days (time the clock was stopped included)."),
            base="applications_completed"),
        Column("processing_days_p90", "number", _("calendar days"), _(
            "90th percentile of the same times (nearest rank): 9 in 10 applications were "
            "finished within this many days."), base="applications_completed"),
        Column("refusals", "integer", _("applications"), _(
            "Finished applications refused."), base="applications_completed"),
        Column("refusal_rate", "number", _("share 0-1"), _(
            "refusals / applications_completed."), base="applications_completed"),
        Column("ratings", "integer", _("ratings"), _("Ratings given in the period.")),
        Column("response_rate", "number", _("ratio"), _(
            "ratings / applications_completed: ratings given per finished application (at "
            "centres ratings of queue visits count too, so it can exceed 1)."),
            base="applications_completed ratings"),
    ]
    for c in criteria:
        cols += [
            Column(f"rated_{c}", "integer", _("ratings"), _(
                "Ratings that scored this criterion.")),
            Column(f"satisfaction_mean_{c}", "number", _("score 1-5"), _(
                "Mean score of this criterion."), base=f"rated_{c}"),
            Column(f"satisfied_share_{c}", "number", _("share 0-1"), _(
                "Share of the scores of this criterion at or above the methodology's "
                "'satisfied' score."), base=f"rated_{c}"),
        ]
    cols += [
        Column("complaints", "integer", _("complaints"), _(
            "Complaints to the provider registered in the period.")),
        Column("complaints_answered_in_time", "integer", _("complaints"), _(
            "Of those, decided by their deadline (the extended one when extended)."),
            base="complaints"),
        Column("complaints_upheld", "integer", _("complaints"), _(
            "Of those, decided in the complainant's favour."), base="complaints"),
        Column("violations", "integer", _("violations"), _(
            "Violations of the service standards found in the period.")),
        Column("violations_self_found", "integer", _("violations"), _(
            "Of those, found by the unit's own internal control."), base="violations"),
        Column("tickets_served", "integer", _("visits"), _(
            "Queue tickets served in the period (centres and regions only).")),
        Column("wait_minutes_median", "number", _("minutes"), _(
            "Median wait in the queue of the tickets served."), base="tickets_served"),
        Column("wait_compliance", "number", _("share 0-1"), _(
            "Share of the tickets served whose wait was within the longest wait the "
            "standard allows for their service group."), base="tickets_served"),
        _SUPPRESSED,
    ]
    title = _("Performance by %(unit)s") % {"unit": SCOPE_WORDS[scope]}
    return Dataset(f"performance_{scope}", title, _(
        "One row per unit: applications received and completed, timeliness, processing "
        "time, refusals, channel mix, satisfaction per criterion, complaints, violations "
        "and queue waits."), tuple(cols))


def complaints(scope: str) -> Dataset:
    return Dataset(f"complaints_{scope}", _("Complaints by %(unit)s, ground and outcome")
                   % {"unit": SCOPE_WORDS[scope]}, _(
        "Complaints registered in the period, one row per unit, level, ground and outcome; "
        "rows of fewer than 10 complaints are merged into one row '_other' per unit, left "
        "empty and flagged when still under 10."), (
        *_unit_columns(scope),
        Column("level", "string", "", _("provider (to the agency) or control (to the "
                                        "control body), or _other.")),
        Column("ground", "string", "", _("The ground of the complaint (a code of the "
                                         "pack), or _other.")),
        Column("outcome", "string", "", _("The decision (upheld, partly_upheld, rejected, "
                                          "...), pending when not yet decided, or _other.")),
        Column("complaints", "integer", _("complaints"), _("Number of complaints.")),
        Column("suppressed", "boolean", "", _("True when the count is left empty because "
                                              "it is under 10.")),
    ))


def violations(scope: str) -> Dataset:
    return Dataset(f"violations_{scope}", _("Violations by %(unit)s and kind")
                   % {"unit": SCOPE_WORDS[scope]}, _(
        "Violations of the service standards found in the period, one row per unit and "
        "kind; rows under 10 are merged into '_other' per unit, left empty and flagged when "
        "still under 10."), (
        *_unit_columns(scope),
        Column("kind", "string", "", _("The kind of violation (deadline_missed, "
                                       "extra_documents, ...), or _other.")),
        Column("violations", "integer", _("violations"), _("Number of violations.")),
        Column("suppressed", "boolean", "", _("True when the count is left empty because "
                                              "it is under 10.")),
    ))


def comments(criteria: Sequence[str]) -> Dataset:
    return Dataset("rating_comments", _("Ratings with comments"), _(
        "Every rating given in the period with a comment: the month, the service, agency "
        "and centre, the scores and the comment with personal data removed (e-mail "
        "addresses, numbers of 6 digits or more and the names of people known to the "
        "system are replaced by [email], [number] and [name])."), (
        _PERIOD,
        Column("month", "string", "", _("The month the rating was given (YYYY-MM).")),
        Column("service_code", "string", "", _("The service rated (empty for a queue "
                                                "visit).")),
        Column("agency_code", "string", "", _("The agency of the service.")),
        Column("centre_code", "string", "", _("The centre, when the service was given at "
                                              "one.")),
        *(Column(f"score_{c}", "integer", _("score 1-5"), _("The score of this criterion "
                                                              "(empty when not scored)."))
          for c in criteria),
        Column("comment", "string", "", _("The comment, personal data removed.")),
    ))


def sdg() -> Dataset:
    return Dataset("sdg_statistics", _("Usage and response-time statistics (EU Single "
                                       "Digital Gateway shape)"), _(
        "Requests and their response times per procedure, in the shape of Regulation (EU) "
        "2018/1724 Art. 24 and Implementing Regulation (EU) 2020/1121 Art. 4: number of "
        "requests by kind of user and situation, subject (the service), response time from "
        "receipt to the final answer. Fields onestop does not record are empty."), (
        Column("reporting_period", "string", "", _("The reporting period.")),
        Column("period_start", "string", _("date"), _("First day of the period.")),
        Column("period_end", "string", _("date"), _("Last day of the period.")),
        Column("country", "string", "", _("The country (ISO 3166-1 alpha-2).")),
        Column("service_provider", "string", "", _("The code of the competent authority "
                                                   "(agency).")),
        Column("subject_matter", "string", "", _("The subject of the requests: the code "
                                                 "of the procedure (service).")),
        Column("requests_total", "integer", _("requests"), _("Requests received in the "
                                                             "period.")),
        Column("requests_online", "integer", _("requests"), _(
            "Of those, received through an online channel (portal, API, proactive, "
            "Open311, GovStack)."), base="requests_total"),
        Column("requests_in_person", "integer", _("requests"), _(
            "Of those, received at a one-stop-shop centre."), base="requests_total"),
        Column("requests_citizens", "integer", _("requests"), _(
            "Requests from citizens (empty: onestop does not record the kind of user)."),
            base="requests_total"),
        Column("requests_businesses", "integer", _("requests"), _(
            "Requests from businesses (empty: not recorded)."), base="requests_total"),
        Column("requests_cross_border", "integer", _("requests"), _(
            "Requests of users in a cross-border situation (empty: not recorded)."),
            base="requests_total"),
        Column("requests_national", "integer", _("requests"), _(
            "Requests of users in a national situation (empty: not recorded)."),
            base="requests_total"),
        Column("requests_closed", "integer", _("requests"), _(
            "Requests answered finally (result issued or refused) in the period.")),
        Column("response_time_days_average", "number", _("calendar days"), _(
            "Average time from receipt of the request to the final answer of the requests "
            "closed."), base="requests_closed"),
        Column("response_time_days_median", "number", _("calendar days"), _(
            "Median of the same times."), base="requests_closed"),
        Column("answered_within_deadline_share", "number", _("share 0-1"), _(
            "Share of the requests closed answered by their legal deadline."),
            base="requests_closed"),
        _SUPPRESSED,
    ))


# --------------------------------------------------------------------------- suppression


def suppress(row: dict[str, Any], columns: Iterable[Column]) -> dict[str, Any]:
    """The row with small cells left empty and their names in `suppressed`: a count
    column with no base that is 1 to 9, and every figure whose base is under 10."""
    cols = list(columns)
    bases = {c.name: row.get(c.name) for c in cols}
    hidden: list[str] = []
    out = dict(row)
    for c in cols:
        if c.name == "suppressed" or out.get(c.name) is None:
            continue
        if c.base is None:
            if c.type == "integer" and 0 < int(out[c.name]) < THRESHOLD:
                hidden.append(c.name)
        else:
            counts = [bases.get(name) for name in c.base.split()]
            if any(n is None or int(n) < THRESHOLD for n in counts):
                hidden.append(c.name)
    for name in hidden:
        out[name] = None
    out["suppressed"] = " ".join(hidden)
    return out


def merge_small(rows: Sequence[Mapping[str, Any]], *, keys: Sequence[str], count: str,
                categories: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of a long table (`keys` identify the unit, `categories` the breakdown) whose
    `count` is under THRESHOLD merged into one row per unit with every category OTHER; that
    row's count is left empty and flagged when it is still under THRESHOLD."""
    kept: list[dict[str, Any]] = []
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        if int(row[count]) >= THRESHOLD:
            kept.append({**row, "suppressed": False})
            continue
        key = tuple(row[k] for k in keys)
        target = merged.setdefault(key, {**{k: row[k] for k in keys},
                                         **dict.fromkeys(categories, OTHER), count: 0})
        target[count] += int(row[count])
    for row in merged.values():
        small = row[count] < THRESHOLD
        kept.append({**row, count: None if small else row[count], "suppressed": small})
    return kept


def audit_heads() -> Dataset:
    return Dataset("audit_heads", _("Published heads of the audit chain"), _(
        "The head of onestop's audit hash chain as it was on each day it was published, "
        "the latest first. Anyone who keeps a head can later check that the record before "
        "it was not rewritten: `onestop audit verify --against SEQUENCE:HASH` on the "
        "system's database fails naming the first entry changed, removed or inserted."), (
        Column("day", "string", _("date"), _("The day (UTC) the head was recorded.")),
        Column("sequence", "integer", "", _("The sequence number of the chain's last "
                                            "entry that day.")),
        Column("hash", "string", "", _("The SHA-256 hash of that entry (hexadecimal), "
                                       "which covers every entry before it.")),
        Column("head", "string", "", _("SEQUENCE:HASH, as `--against` takes it.")),
    ))
