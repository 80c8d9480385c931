"""The public site's pages, built from the snapshots for the active language: each page is
a title and sections, a section some words, a chart, a table and links. The same page
serves the live site (`/monitor/...`), its CSV and JSON downloads, and the static copy
`onestop publish` writes; only the links differ (a `Linker`).

Page paths (relative to the site's root, directories end with "/"): "" (the national
picture), "rankings/agency/", "rankings/region/", "agency/<code>/", "service/<code>/",
"centres/", "centre/<code>/", "methodology/", "control/", "audit/". A table `t` of page
`p` downloads as `p` + `t.csv`; all of a page's tables as `p` + "data.json".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, gettext_lazy, ngettext

from onestop.catalogue.models import Country
from onestop.centres.models import Centre
from onestop.core.text import localize
from onestop.public import charts, selectors, services
from onestop.quality.labels import INDICATOR_NAMES

UNIT_CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TABLE_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

MEASURE_WORDS = {
    "timeliness": gettext_lazy(
        "The share of applications finished in the period that were finished by their "
        "deadline (a deadline moves when the clock is stopped lawfully)."),
    "satisfaction": gettext_lazy(
        "The share of the scores citizens gave in the period that are at or above the "
        "satisfied mark, over every criterion rated."),
    "lawful_refusals": gettext_lazy(
        "The share of refusals in the period not overturned by an upheld complaint."),
    "complaint_handling": gettext_lazy(
        "The share of complaints registered in the period that were answered by their "
        "deadline."),
    "digital_take_up": gettext_lazy(
        "The share of applications submitted in the period through a digital channel."),
    "completion_rate": gettext_lazy(
        "The share of applications submitted in the period that were finished in it."),
    "internal_control": gettext_lazy(
        "The share of violations found by the body itself rather than by the control "
        "body."),
    "queue_wait": gettext_lazy(
        "The share of tickets served at a centre within the maximum wait of the standard."),
    "cost_per_transaction": gettext_lazy(
        "The mean unit cost of one application, by the cost of its channel; reported, "
        "not scored."),
}
CHANNEL_NAMES = {
    "portal": gettext_lazy("portal"), "centre": gettext_lazy("one-stop-shop centre"),
    "api": gettext_lazy("API"), "proactive": gettext_lazy("proactive"),
    "open311": gettext_lazy("Open311"), "govstack": gettext_lazy("GovStack"),
}


# --------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Linker:
    """Where a page path points: `/monitor/<path>` on the live site; on the static copy a
    path relative to the page being written, ending in index.html (so that the files also
    open from disk)."""

    prefix: str = "/monitor/"
    static: bool = False
    here: str = ""
    languages: tuple[str, ...] = ()

    def page(self, path: str) -> str:
        return self.prefix + path + ("index.html" if self.static else "")

    def file(self, path: str) -> str:
        return self.prefix + path

    @classmethod
    def for_static(cls, path: str, languages: tuple[str, ...]) -> Linker:
        depth = path.count("/")
        return cls(prefix="../" * depth, static=True, here=path, languages=languages)

    def css(self) -> list[str]:
        up = self.prefix + "../" if self.static else "/static/"
        if self.static:
            return [up + "static/onestop/site.css", up + "static/public/monitor.css"]
        return [up + "onestop/site.css", up + "public/monitor.css"]

    def language_links(self) -> list[dict[str, str]]:
        if not self.static:
            return []
        return [{"code": code, "href": f"{self.prefix}../{code}/{self.here}index.html"}
                for code in self.languages]


# --------------------------------------------------------------------------- tables


@dataclass
class Cell:
    text: str
    csv: str
    href: str | None = None


@dataclass
class Table:
    id: str
    caption: str
    columns: list[tuple[str, str | Promise]]  # (key for CSV and JSON, label)
    rows: list[list[Cell]] = field(default_factory=list)
    row_headers: bool = True  # the first cell of a row names it

    def add(self, *cells: Cell) -> None:
        self.rows.append(list(cells))

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([key for key, _ in self.columns])
        for row in self.rows:
            writer.writerow([cell.csv for cell in row])
        return out.getvalue()

    def as_json(self) -> dict[str, Any]:
        return {"caption": str(self.caption), "columns": [k for k, _ in self.columns],
                "rows": [[cell.csv for cell in row] for row in self.rows]}


def text(value: str | Promise) -> Cell:
    return Cell(str(value), str(value))


def link(value: str, href: str | None, csv_value: str | None = None) -> Cell:
    return Cell(value, value if csv_value is None else csv_value, href)


def missing() -> Cell:
    return Cell("–", "")


def suppressed() -> Cell:
    return Cell(gettext("fewer than %(n)s") % {"n": services.SUPPRESS_BELOW},
                f"<{services.SUPPRESS_BELOW}")


def count(value: int | None, *, hidden: bool = False) -> Cell:
    """A published count: `hidden` marks a suppressed one (None)."""
    if value is None:
        return suppressed() if hidden else missing()
    return Cell(str(value), str(value))


def percent(share: float | None) -> Cell:
    if share is None:
        return missing()
    shown = f"{100 * share:.1f}"
    return Cell(shown, shown)


def number(value: float | None, digits: int = 2) -> Cell:
    if value is None:
        return missing()
    shown = str(round(value, digits))
    return Cell(shown, shown)


def duration(seconds: float | None) -> Cell:
    """A processing time or a wait in words: minutes under two hours, hours under two
    days, else days (calendar time)."""
    if seconds is None:
        return missing()
    if seconds < 7200:
        minutes = seconds / 60
        shown = gettext("%(n)s min") % {"n": f"{minutes:.0f}"}
    elif seconds < 172_800:
        shown = gettext("%(n)s h") % {"n": f"{seconds / 3600:.1f}"}
    else:
        shown = gettext("%(n)s days") % {"n": f"{seconds / 86400:.1f}"}
    return Cell(shown, shown)


# --------------------------------------------------------------------------- pages


@dataclass
class Section:
    id: str
    heading: str | Promise
    paragraphs: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    chart_title: str = ""
    table: Table | None = None
    links: list[dict[str, str]] = field(default_factory=list)
    csv: str = ""  # the href of the table's CSV


@dataclass
class Page:
    path: str
    title: str
    sections: list[Section]
    period: str
    taken_at: str
    crumbs: list[dict[str, str]] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, Table]:
        return {s.table.id: s.table for s in self.sections if s.table is not None}

    def as_json(self) -> str:
        return json.dumps({
            "page": self.path, "title": self.title, "period": self.period,
            "taken_at": self.taken_at,
            "tables": {key: t.as_json() for key, t in self.tables.items()},
        }, ensure_ascii=False, indent=1)


class Context:
    """What a page builder needs: the country, the index of the latest refresh, the
    language, the linker, and whether live figures may be read."""

    def __init__(self, country: Country, index: dict[str, Any], linker: Linker, *,
                 live: bool) -> None:
        self.country = country
        self.index = index
        self.period = index["period"]
        self.linker = linker
        self.live = live
        self.language = get_language() or "en"

    def name(self, value: dict[str, str] | None, fallback: str = "") -> str:
        return localize(value, self.language, self.country.languages) or fallback

    def block(self, key: str) -> dict[str, Any] | None:
        return selectors.block(self.country, self.period, key)

    def section(self, path: str, section: Section) -> Section:
        if section.table is not None:
            section.csv = self.linker.file(f"{path}{section.table.id}.csv")
        return section


def _home_crumb(c: Context) -> dict[str, str]:
    return {"href": c.linker.page(""), "text": gettext("Monitoring")}


def _indicator_name(code: str, measure: str) -> str:
    return str(INDICATOR_NAMES.get(measure, code))


def _value_cells(indicators: list[dict[str, Any]], values: dict[str, Any]) -> list[Cell]:
    cells = []
    for indicator in indicators:
        stored = values.get(indicator["code"]) or {}
        value = stored.get("value")
        if indicator["measure"] == "cost_per_transaction":
            cells.append(number(value))
        else:
            cells.append(percent(value))
        cells.append(count(stored.get("n", 0)))
    return cells


def _rank_cell(row: dict[str, Any]) -> Cell:
    if row["ranked"]:
        return Cell(str(row["rank"]), str(row["rank"]))
    return Cell(gettext("not ranked"), "not ranked")


def _band_name(block: dict[str, Any], code: str, c: Context) -> str:
    for band in block.get("bands", []):
        if band["code"] == code:
            return c.name(band.get("name"), code)
    return code


def national_page(c: Context) -> Page:
    block = c.block("national") or {"figures": {}, "trend": [], "channels": {}}
    f = block["figures"]
    facts = Table("figures", gettext("The national picture, %(period)s") % {
        "period": c.period}, [("measure", gettext("Measure")), ("value", gettext("Value"))])
    facts.add(text(gettext("Applications submitted")), count(f.get("submitted")))
    facts.add(text(gettext("Applications finished")), count(f.get("finished")))
    facts.add(text(gettext("Finished by the deadline (%)")), percent(f.get("timeliness")))
    facts.add(text(gettext("Refused (%)")), percent(f.get("refusal_rate")))
    facts.add(text(gettext("Submitted through a digital channel (%)")),
              percent(f.get("digital_take_up")))
    facts.add(text(gettext("Ratings given")), count(f.get("ratings"), hidden=True))
    facts.add(text(gettext("Mean rating (1 to 5)")), number(f.get("satisfaction")))
    chart = charts.bars([
        charts.Bar(gettext("Timeliness"), _pct(f.get("timeliness")),
                   percent(f.get("timeliness")).text),
        charts.Bar(gettext("Digital take-up"), _pct(f.get("digital_take_up")),
                   percent(f.get("digital_take_up")).text),
        charts.Bar(gettext("Refusals"), _pct(f.get("refusal_rate")),
                   percent(f.get("refusal_rate")).text),
    ], maximum=100)
    trend = Table("trend", gettext("The figures over the periods"), [
        ("period", gettext("Period")), ("submitted", gettext("Submitted")),
        ("finished", gettext("Finished")), ("timeliness", gettext("Timeliness (%)")),
        ("digital_take_up", gettext("Digital take-up (%)")),
        ("ratings", gettext("Ratings")), ("satisfaction", gettext("Mean rating (1 to 5)")),
    ])
    for point in block["trend"]:
        trend.add(text(point["period"]), count(point["submitted"]), count(point["finished"]),
                  percent(point["timeliness"]), percent(point["digital_take_up"]),
                  count(point["ratings"], hidden=True), number(point["satisfaction"]))
    trend_chart = charts.lines([p["period"] for p in block["trend"]], [
        charts.Series(gettext("Timeliness (%)"), [_pct(p["timeliness"]) for p in block["trend"]]),
        charts.Series(gettext("Digital take-up (%)"),
                      [_pct(p["digital_take_up"]) for p in block["trend"]]),
    ])
    channels = _channel_table(block["channels"])
    links = [
        {"href": c.linker.page("rankings/agency/"), "text": gettext("Ranking of agencies")},
        {"href": c.linker.page("rankings/region/"), "text": gettext("Ranking of regions")},
        {"href": c.linker.page("centres/"), "text": gettext("Centres and their queues")},
        {"href": c.linker.page("control/"), "text": gettext("Violations and complaints")},
        {"href": c.linker.page("methodology/"), "text": gettext("How the scores are made")},
        {"href": c.linker.page("audit/"), "text": gettext("Published audit heads")},
    ]
    return Page("", gettext("How public services perform"), [
        Section("pages", gettext("Pages"), links=links),
        c.section("", Section("figures", gettext("The period"), chart=chart,
                              chart_title=gettext("Timeliness, digital take-up and "
                                                  "refusals, in per cent"), table=facts)),
        c.section("", Section("trend", gettext("Trend"), chart=trend_chart,
                              chart_title=gettext("Timeliness and digital take-up over the "
                                                  "periods, in per cent"), table=trend)),
        c.section("", Section("channels", gettext("Channels"),
                              chart=_channel_chart(block["channels"]),
                              chart_title=gettext("Applications by channel"),
                              table=channels)),
    ], c.period, c.index["taken_at"])


def _pct(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _channel_table(channels: dict[str, int]) -> Table:
    table = Table("channels", gettext("Applications by channel"), [
        ("channel", gettext("Channel")), ("applications", gettext("Applications")),
        ("share", gettext("Share (%)"))])
    total = sum(channels.values())
    for code, n in sorted(channels.items(), key=lambda item: (-item[1], item[0])):
        table.add(link(str(CHANNEL_NAMES.get(code, code)), None, code), count(n),
                  percent(n / total if total else None))
    return table


def _channel_chart(channels: dict[str, int]) -> dict[str, Any] | None:
    total = sum(channels.values())
    return charts.bars([
        charts.Bar(str(CHANNEL_NAMES.get(code, code)), 100 * n / total if total else None,
                   f"{100 * n / total:.1f}" if total else "")
        for code, n in sorted(channels.items(), key=lambda item: (-item[1], item[0]))
    ], maximum=100)


def ranking_page(c: Context, scope: str) -> Page | None:
    if scope not in ("agency", "region"):
        return None
    block = c.block(f"ranking:{scope}") or {"run": None, "rows": [], "indicators": []}
    path = f"rankings/{scope}/"
    title = gettext("Ranking of agencies") if scope == "agency" else gettext(
        "Ranking of regions")
    crumbs = [_home_crumb(c)]
    if block["run"] is None:
        return Page(path, title, [Section("none", gettext("No assessment"), paragraphs=[
            gettext("No assessment is stored for this period yet.")])], c.period,
            c.index["taken_at"], crumbs)
    columns: list[tuple[str, str | Promise]] = [
        ("unit", gettext("Unit")), ("code", gettext("Code")), ("rank", gettext("Rank")),
        ("score", gettext("Score")), ("band", gettext("Band")), ("n", gettext("Cases (n)"))]
    for indicator in block["indicators"]:
        name = _indicator_name(indicator["code"], indicator["measure"])
        unit = "" if indicator["measure"] == "cost_per_transaction" else " (%)"
        columns.append((indicator["code"], f"{name}{unit}"))
        columns.append((f"{indicator['code']}_n", f"{name}: n"))
    table = Table("ranking", gettext("%(title)s, %(period)s") % {
        "title": title, "period": c.period}, columns)
    items = []
    for row in block["rows"]:
        name = c.name(row["name"], row["code"])
        href = c.linker.page(f"agency/{row['code']}/") if scope == "agency" else None
        table.add(link(name, href), text(row["code"]), _rank_cell(row), number(row["score"]),
                  text(_band_name(block, row["band"], c)), count(row["n"]),
                  *_value_cells(block["indicators"], row["values"]))
        items.append(charts.Bar(name, row["score"], number(row["score"]).text,
                                muted=not row["ranked"]))
    words = [gettext("Scores from 0 to 100 by methodology %(version)s; units with fewer "
                     "than %(n)s cases are shown but not ranked.") % {
        "version": block["run"]["methodology"], "n": block["min_cases"]}]
    if block["run"]["example"]:
        words.append(gettext("EXAMPLE methodology, not law: its weights and bands are "
                             "illustrations, not the country's rules."))
    return Page(path, title, [c.section(path, Section(
        "ranking", gettext("Scores and indicators"), paragraphs=words,
        chart=charts.bars(items, maximum=100),
        chart_title=gettext("The score of each unit, 0 to 100; grey bars are not ranked"),
        table=table))], c.period, c.index["taken_at"], crumbs)


def _indicators_table(c: Context, block: dict[str, Any], result: dict[str, Any],
                      table_id: str = "indicators") -> Table:
    table = Table(table_id, gettext("The indicators behind the score, %(period)s") % {
        "period": c.period}, [
        ("indicator", gettext("Indicator")), ("code", gettext("Code")),
        ("weight", gettext("Weight")), ("value", gettext("Value (per cent or cost)")),
        ("n", gettext("Cases (n)"))])
    for indicator in block["indicators"]:
        cells = _value_cells([indicator], result["values"])
        table.add(text(_indicator_name(indicator["code"], indicator["measure"])),
                  text(indicator["code"]), number(indicator["weight"]), *cells)
    return table


def _score_facts(c: Context, block: dict[str, Any], result: dict[str, Any]
                 ) -> list[tuple[str, str]]:
    return [
        (gettext("Score"), number(result["score"]).text),
        (gettext("Band"), _band_name(block, result["band"], c)),
        (gettext("Rank"), str(result["rank"]) if result["ranked"] else gettext(
            "not ranked: fewer than %(n)s cases") % {"n": block.get("min_cases")}),
        (gettext("Cases (n)"), str(result["n"])),
    ]


def _trend_section(c: Context, path: str, trend: list[dict[str, Any]]) -> Section:
    table = Table("trend", gettext("The score in earlier periods"), [
        ("period", gettext("Period")), ("score", gettext("Score")),
        ("rank", gettext("Rank")), ("n", gettext("Cases (n)")),
        ("methodology", gettext("Methodology"))])
    for point in trend:
        table.add(text(point["period"]), number(point["score"]),
                  text(str(point["rank"]) if point["ranked"] else gettext("not ranked"))
                  if point["score"] is not None else missing(),
                  count(point["n"]), text(point["version"]))
    chart = charts.lines([p["period"] for p in trend],
                         [charts.Series(gettext("Score"), [p["score"] for p in trend])])
    return c.section(path, Section("trend", gettext("Trend"), chart=chart,
                                   chart_title=gettext("The score over the periods"),
                                   table=table))


def _control_table(table_id: str, caption: str, rows: list[dict[str, Any]],
                   c: Context, first: str | Promise, hrefs: bool) -> Table:
    table = Table(table_id, caption, [
        ("unit", first), ("code", gettext("Code")),
        ("violations", gettext("Violations found")),
        ("violations_self", gettext("of them by the body itself")),
        ("complaints", gettext("Complaints")),
        ("complaints_upheld", gettext("Complaints upheld"))])
    for row in rows:
        table.add(link(c.name(row["name"], row["code"]),
                       c.linker.page(f"agency/{row['code']}/") if hrefs else None),
                  text(row["code"]), *(count(row[k], hidden=True) for k in (
                      "violations", "violations_self", "complaints", "complaints_upheld")))
    return table


def agency_page(c: Context, code: str) -> Page | None:
    block = c.block(f"agency:{code}")
    if block is None:
        return None
    path = f"agency/{code}/"
    ranking = c.block("ranking:agency") or {"indicators": []}
    sections: list[Section] = []
    result = block["result"]
    if result is not None:
        sections.append(c.section(path, Section(
            "indicators", gettext("Score and indicators"),
            facts=_score_facts(c, ranking, result),
            table=_indicators_table(c, ranking, result))))
    else:
        sections.append(Section("indicators", gettext("Score and indicators"), paragraphs=[
            gettext("This agency is not in the assessment of this period.")]))
    if block["trend"]:
        sections.append(_trend_section(c, path, block["trend"]))
    services = Table("services", gettext("Its services, %(period)s") % {"period": c.period}, [
        ("service", gettext("Service")), ("code", gettext("Code")),
        ("submitted", gettext("Submitted")), ("finished", gettext("Finished")),
        ("timeliness", gettext("Timeliness (%)"))])
    for s in block["services"]:
        services.add(link(c.name(s["name"], s["code"]), c.linker.page(f"service/{s['code']}/")),
                     text(s["code"]), count(s["submitted"]), count(s["finished"]),
                     percent(s["timeliness"]))
    sections.append(c.section(path, Section("services", gettext("Services"), table=services)))
    if block["control"]:
        sections.append(c.section(path, Section(
            "control", gettext("Violations and complaints"),
            paragraphs=[_suppression_words()],
            table=_control_table("control", gettext("Violations and complaints, %(period)s")
                                 % {"period": c.period}, [block["control"]], c,
                                 gettext("Agency"), False))))
    return Page(path, c.name(block["name"], code), sections, c.period, c.index["taken_at"],
                [_home_crumb(c), {"href": c.linker.page("rankings/agency/"),
                                  "text": gettext("Ranking of agencies")}])


def _suppression_words() -> str:
    return gettext("Counts from 1 to %(n)s are not published (shown as \"fewer than "
                   "%(m)s\") so that no person can be recognised.") % {
        "n": services.SUPPRESS_BELOW - 1, "m": services.SUPPRESS_BELOW}


def _deadline_words(standard: dict[str, Any]) -> str:
    n = standard["deadline_value"]
    unit = standard["deadline_unit"]
    if unit == "working_days":
        return ngettext("%(n)s working day", "%(n)s working days", n) % {"n": n}
    if unit == "hours":
        return ngettext("%(n)s hour", "%(n)s hours", n) % {"n": n}
    return ngettext("%(n)s minute", "%(n)s minutes", n) % {"n": n}


def service_page(c: Context, code: str) -> Page | None:
    block = c.block(f"service:{code}")
    if block is None:
        return None
    path = f"service/{code}/"
    a, standard = block["actual"], block["standard"]
    table = Table("performance", gettext("The standard beside the performance, %(period)s")
                  % {"period": c.period}, [
        ("measure", gettext("Measure")), ("standard", gettext("Standard")),
        ("actual", gettext("Actual")), ("n", gettext("Cases (n)"))])
    deadline = text(_deadline_words(standard)) if standard else missing()
    table.add(text(gettext("Finished by the deadline (%)")), text("100.0"),
              percent(a["timeliness"]), count(a["finished"]))
    table.add(text(gettext("Median processing time")), deadline,
              duration(a["median_seconds"]), count(a["n"]))
    table.add(text(gettext("90th percentile of processing time")), deadline,
              duration(a["p90_seconds"]), count(a["n"]))
    table.add(text(gettext("Refused (%)")), missing(), percent(a["refusal_rate"]),
              count(a["finished"]))
    table.add(text(gettext("Submitted through a digital channel (%)")), missing(),
              percent(a["digital_take_up"]), count(a["submitted"]))
    table.add(text(gettext("Mean rating (1 to 5)")), missing(), number(a["satisfaction"]),
              count(a["ratings"], hidden=True))
    if standard and standard.get("max_wait_minutes"):
        table.add(text(gettext("Maximum wait at a centre")),
                  text(gettext("%(n)s min") % {"n": standard["max_wait_minutes"]}),
                  missing(), missing())
    if standard:
        table.add(text(gettext("Fee")), text(standard["fee_amount"]), missing(), missing())
    sections = [c.section(path, Section("performance", gettext("Standard and performance"),
                                        table=table))]
    criteria = Table("satisfaction", gettext("Satisfaction per criterion, %(period)s") % {
        "period": c.period}, [
        ("criterion", gettext("Criterion")), ("mean", gettext("Mean score (1 to 5)")),
        ("satisfied", gettext("Satisfied (%)")), ("n", gettext("Ratings (n)"))])
    for row in a["criteria"]:
        criteria.add(text(row["criterion"]), number(row["mean"]), percent(row["satisfied"]),
                     count(row["n"], hidden=True))
    sections.append(c.section(path, Section(
        "satisfaction", gettext("Satisfaction"), paragraphs=[_suppression_words()],
        chart=charts.bars([charts.Bar(r["criterion"], r["mean"], number(r["mean"]).text)
                           for r in a["criteria"]], maximum=5),
        chart_title=gettext("Mean score per criterion, 1 to 5"), table=criteria)))
    sections.append(c.section(path, Section(
        "channels", gettext("Channels"), chart=_channel_chart(block["channels"]),
        chart_title=gettext("Applications by channel"),
        table=_channel_table(block["channels"]))))
    result = block["result"]
    if result is not None and block["run"] is not None:
        ranking = {"indicators": block["indicators"], "bands": block["bands"],
                   "min_cases": block["min_cases"]}
        sections.append(c.section(path, Section(
            "indicators", gettext("Score and indicators"),
            paragraphs=[gettext("From assessment run %(run)s (methodology %(version)s).") % {
                "run": block["run"]["id"], "version": block["run"]["methodology"]}],
            facts=_score_facts(c, ranking, result),
            table=_indicators_table(c, ranking, result))))
    if block["trend"]:
        sections.append(_trend_section(c, path, block["trend"]))
    agency = block["agency"]
    return Page(path, c.name(block["name"], code), sections, c.period, c.index["taken_at"], [
        _home_crumb(c), {"href": c.linker.page(f"agency/{agency['code']}/"),
                         "text": c.name(agency["name"], agency["code"])}])


def centres_page(c: Context) -> Page:
    table = Table("centres", gettext("Centres, %(period)s") % {"period": c.period}, [
        ("centre", gettext("Centre")), ("code", gettext("Code")),
        ("region", gettext("Region")), ("tickets", gettext("Tickets")),
        ("within_standard", gettext("Served within the maximum wait (%)"))])
    for centre in c.index.get("centres", []):
        table.add(link(c.name(centre["name"], centre["code"]),
                       c.linker.page(f"centre/{centre['code']}/")),
                  text(centre["code"]), text(centre["region"]), count(centre["tickets"]),
                  percent(centre["within_standard"]))
    return Page("centres/", gettext("Centres and their queues"), [
        c.section("centres/", Section("centres", gettext("Centres"), table=table))],
        c.period, c.index["taken_at"], [_home_crumb(c)])


def _wait_table(table_id: str, caption: str, s: dict[str, Any] | None) -> Table:
    table = Table(table_id, caption, [
        ("group", gettext("Queue")), ("max_wait", gettext("Maximum wait (min)")),
        ("tickets", gettext("Tickets")), ("avg_wait", gettext("Mean wait")),
        ("within_standard", gettext("Within the maximum wait (%)"))])
    if s is None:
        return table
    for g in s["groups"]:
        table.add(text(g["code"]), text(str(g["max_wait_minutes"])), count(g["tickets"]),
                  duration(g["avg_wait_seconds"]), percent(g["within_standard"]))
    table.add(text(gettext("All queues")), missing(), count(s["tickets"]),
              duration(s["avg_wait_seconds"]), percent(s["within_standard"]))
    return table


def centre_page(c: Context, code: str) -> Page | None:
    block = c.block(f"centre:{code}")
    if block is None:
        return None
    path = f"centre/{code}/"
    if c.live:
        centre = (Centre.objects.filter(country=c.country, code=code)
                  .select_related("country", "region").first())
        if centre is not None:
            block = {**block, **services.live_block(centre, timezone.now())}
    live = block["live"]
    at = _local_time(c, block["live_at"])
    queue = Table("queue", gettext("The queue at %(time)s") % {"time": at}, [
        ("group", gettext("Queue")), ("waiting", gettext("Waiting")),
        ("open_counters", gettext("Open counters")),
        ("expected_wait", gettext("Expected wait"))])
    for g in live["groups"]:
        queue.add(text(g["code"]), count(g["waiting"]), count(g["open_counters"]),
                  duration(g["expected_wait_seconds"]))
    expected = duration(live["expected_wait_seconds"]).text if live[
        "expected_wait_seconds"] is not None else gettext("no counter open")
    sections = [
        c.section(path, Section("queue", gettext("Now"), facts=[
            (gettext("Waiting"), str(live["waiting"])),
            (gettext("Expected wait of a new ticket"), expected)], table=queue)),
        c.section(path, Section("today", gettext("Today"), table=_wait_table(
            "today", gettext("Waits today"), block["today"]))),
        c.section(path, Section("period", gettext("The period"), table=_wait_table(
            "period", gettext("Waits from %(first)s to %(last)s") % {
                "first": block["first_day"], "last": block["last_day"]}, block["period"]))),
    ]
    return Page(path, c.name(block["name"], code), sections, c.period, c.index["taken_at"],
                [_home_crumb(c), {"href": c.linker.page("centres/"),
                                  "text": gettext("Centres and their queues")}])


def _local_time(c: Context, iso: str | None) -> str:
    return format_taken(iso, c.country)


def format_taken(iso: str | None, country: Country) -> str:
    """A stored UTC time as the country's local date and time, with the zone's name."""
    if not iso:
        return "–"
    moment = dt.datetime.fromisoformat(iso).astimezone(ZoneInfo(country.time_zone))
    return f"{moment:%Y-%m-%d %H:%M} ({country.time_zone})"


def methodology_page(c: Context) -> Page:
    m = c.block("methodology") or {"version": None}
    path = "methodology/"
    if not m.get("version"):
        return Page(path, gettext("How the scores are made"), [Section(
            "none", gettext("No methodology"), paragraphs=[
                gettext("No assessment methodology is stored yet.")])],
            c.period, c.index["taken_at"], [_home_crumb(c)])
    words = [
        gettext("Methodology version %(version)s: %(title)s.") % {
            "version": m["version"], "title": c.name(m.get("title"), m["version"])},
        gettext("Each unit gets a score from 0 to 100: the weighted mean of its indicators "
                "(each a share from 0 to 1), an indicator without cases left out and the "
                "others weighted up; then minus %(points)s points per violation per 1,000 "
                "applications, at most %(cap)s points.") % {
            "points": m["penalty_points"], "cap": m["penalty_cap"]},
        gettext("A unit with fewer than %(n)s cases is shown but not ranked; the others are "
                "ranked by score, equal scores sharing a rank.") % {"n": m["min_cases"]},
        gettext("A rating counts as satisfied at %(n)s or more out of 5.") % {
            "n": m["satisfied_at_or_above"]},
        gettext("Fingerprint (SHA-256) of the methodology: %(sha)s") % {"sha": m["sha256"]},
    ]
    if m.get("example"):
        words.insert(1, gettext("EXAMPLE methodology, not law: its weights and bands are "
                                "illustrations, not the country's rules."))
    indicators = Table("indicators", gettext("Indicators and their weights"), [
        ("indicator", gettext("Indicator")), ("code", gettext("Code")),
        ("weight", gettext("Weight")), ("meaning", gettext("What it measures"))])
    for i in m["indicators"]:
        indicators.add(text(_indicator_name(i["code"], i["measure"])), text(i["code"]),
                       number(i["weight"]), text(MEASURE_WORDS.get(i["measure"], "")))
    bands = Table("bands", gettext("Bands"), [
        ("band", gettext("Band")), ("code", gettext("Code")),
        ("above", gettext("Score above"))])
    for b in m["bands"]:
        bands.add(text(c.name(b.get("name"), b["code"])), text(b["code"]), number(b["above"]))
    return Page(path, gettext("How the scores are made"), [
        c.section(path, Section("indicators", gettext("Indicators"), paragraphs=words,
                                table=indicators)),
        c.section(path, Section("bands", gettext("Bands"), table=bands)),
    ], c.period, c.index["taken_at"], [_home_crumb(c)])


def control_page(c: Context) -> Page:
    block = c.block("control") or {"agencies": [], "regions": [], "total": {}}
    path = "control/"
    agencies = _control_table("agencies", gettext("By agency, %(period)s") % {
        "period": c.period}, block["agencies"], c, gettext("Agency"), True)
    regions = _control_table("regions", gettext("By region, %(period)s") % {
        "period": c.period}, block["regions"], c, gettext("Region"), False)
    chart = charts.bars([
        charts.Bar(c.name(r["name"], r["code"]), r["complaints"], str(r["complaints"]))
        for r in block["agencies"] if r["complaints"] is not None])
    return Page(path, gettext("Violations and complaints"), [
        c.section(path, Section("agencies", gettext("Agencies"),
                                paragraphs=[_suppression_words()], chart=chart,
                                chart_title=gettext("Complaints per agency (published "
                                                    "counts only)"), table=agencies)),
        c.section(path, Section("regions", gettext("Regions"), table=regions)),
    ], c.period, c.index["taken_at"], [_home_crumb(c)])


def audit_page(c: Context) -> Page:
    path = "audit/"
    table = Table("heads", gettext("The audit chain's head, day by day"), [
        ("day", gettext("Day (UTC)")), ("sequence", gettext("Entries")),
        ("hash", gettext("Head hash")), ("head", gettext("To check against"))])
    for head in selectors.heads():
        table.add(text(head.day.isoformat()), text(str(head.sequence)), text(head.hash),
                  text(f"{head.sequence}:{head.hash}"))
    words = [
        gettext("Every action recorded in onestop is an entry of a hash chain: each entry's "
                "hash covers the one before. The head (the last entry's number and hash) is "
                "published here once a day."),
        gettext("Keep a head you see today. Later, anyone running onestop's database can "
                "prove that no entry up to it was altered, removed or inserted:"),
        "onestop audit verify --against SEQUENCE:HASH",
    ]
    return Page(path, gettext("Published audit heads"), [
        c.section(path, Section("heads", gettext("Daily heads"), paragraphs=words,
                                table=table))], c.period, c.index["taken_at"], [_home_crumb(c)])


# --------------------------------------------------------------------------- dispatch

Builder = Callable[[Context], Page | None]


def build(c: Context, path: str) -> Page | None:
    """The page at `path` ("" or segments ending in "/"), or None when there is none."""
    fixed: dict[str, Builder] = {
        "": national_page, "centres/": centres_page, "methodology/": methodology_page,
        "control/": control_page, "audit/": audit_page,
        "rankings/agency/": lambda ctx: ranking_page(ctx, "agency"),
        "rankings/region/": lambda ctx: ranking_page(ctx, "region"),
    }
    if path in fixed:
        return fixed[path](c)
    parts = path.split("/")
    if len(parts) != 3 or parts[2] != "" or not UNIT_CODE.fullmatch(parts[1]):
        return None
    kind, code = parts[0], parts[1]
    if kind == "agency":
        return agency_page(c, code)
    if kind == "service":
        return service_page(c, code)
    if kind == "centre":
        return centre_page(c, code)
    return None


def all_paths(index: dict[str, Any]) -> list[str]:
    """Every page of the site, for the static copy."""
    paths = ["", "rankings/agency/", "rankings/region/", "centres/", "methodology/",
             "control/", "audit/"]
    paths += [f"agency/{code}/" for code in index.get("agencies", [])]
    paths += [f"service/{code}/" for code in index.get("services", [])]
    paths += [f"centre/{c['code']}/" for c in index.get("centres", [])]
    return paths
