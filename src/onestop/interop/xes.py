"""The event log as XES (IEEE 1849-2016), written as a stream: one trace per application,
one event per step, so a log of any size is written in constant memory.

Pure: it imports no Django; `onestop.interop.selectors.event_log` supplies the rows.
Standard extensions used: Concept (names), Time (timestamps), Lifecycle (every step is a
completed activity) and Organizational (org:resource and org:role carry the actor's role,
org:group the unit, never a person).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TextIO
from xml.sax.saxutils import quoteattr

EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
)


class Row(Protocol):
    """What the writer reads of each event (onestop.interop.selectors.EventRow)."""

    @property
    def case(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def centre(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def from_state(self) -> str: ...
    @property
    def to_state(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def clock(self) -> str: ...


@dataclass(frozen=True)
class Written:
    traces: int
    events: int


def timestamp(moment: dt.datetime) -> str:
    """xs:dateTime with milliseconds and the offset, as XES wants."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat(timespec="milliseconds")


def _string(key: str, value: str) -> str:
    return f"<string key={quoteattr(key)} value={quoteattr(value)}/>"


def unit(row: Row) -> str:
    """The unit an event happened in: the centre for a step taken at its counter, else
    the agency the application is routed to."""
    if row.role == "operator" and row.centre:
        return row.centre
    return row.agency


def write(out: TextIO, rows: Iterable[Row], *, name: str, description: str = "") -> Written:
    """Write the log of `rows` (each case's rows together, in time order) to `out`."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">\n')
    for ext_name, prefix, uri in EXTENSIONS:
        out.write(f"  <extension name={quoteattr(ext_name)} prefix={quoteattr(prefix)} "
                  f"uri={quoteattr(uri)}/>\n")
    out.write('  <global scope="trace">\n    ' + _string("concept:name", "__INVALID__")
              + "\n  </global>\n")
    out.write('  <global scope="event">\n    ' + _string("concept:name", "__INVALID__")
              + '\n    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>\n    '
              + _string("lifecycle:transition", "complete") + "\n  </global>\n")
    out.write('  <classifier name="Activity" keys="concept:name"/>\n')
    out.write('  <classifier name="Activity and transition" '
              'keys="concept:name lifecycle:transition"/>\n')
    out.write("  " + _string("concept:name", name) + "\n")
    if description:
        out.write("  " + _string("description", description) + "\n")
    out.write("  " + _string("lifecycle:model", "standard") + "\n")

    traces = events = 0
    case: str | None = None
    for row in rows:
        if row.case != case:
            if case is not None:
                out.write("  </trace>\n")
            case = row.case
            traces += 1
            out.write("  <trace>\n    " + _string("concept:name", row.case) + "\n")
            out.write("    " + _string("channel", row.channel) + "\n")
            if row.outcome:
                out.write("    " + _string("outcome", row.outcome) + "\n")
        events += 1
        parts = [
            _string("concept:name", row.action),
            f'<date key="time:timestamp" value="{timestamp(row.at)}"/>',
            _string("lifecycle:transition", "complete"),
            _string("org:resource", row.role),
            _string("org:role", row.role),
            _string("org:group", unit(row)),
            _string("from_state", row.from_state),
            _string("to_state", row.to_state),
        ]
        if row.clock:
            parts.append(_string("clock", row.clock))
        out.write("    <event>\n      " + "\n      ".join(parts) + "\n    </event>\n")
    if case is not None:
        out.write("  </trace>\n")
    out.write("</log>\n")
    return Written(traces=traces, events=events)
