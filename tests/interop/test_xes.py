"""The event log as XES: well-formed, with the standard extensions, read by pm4py, which
discovers from it the process of a hand-built history; nothing in it names a person.

The history (mini pack, zz, Asia/Almaty; 2026-Q3 starts 2026-06-30 19:00 UTC), service
01010001 (workflow simple_approval):
- A (portal): submit, accept, approve, issue
- B (portal): submit, accept, request_documents (clock stop), provide_documents (clock
  resume), refuse
- C (centre AST-01, by an operator): submit, accept, approve, issue
- D (portal) submitted in June: outside the period
- E: another service (02020001) in July: not in this service's log
"""

from __future__ import annotations

import io
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from onestop.accounts.models import User
from onestop.applications.models import Application, ApplicationEvent
from onestop.catalogue.models import Country, Service
from onestop.centres.models import Centre
from onestop.interop import selectors, xes
from onestop.quality.services import period_bounds

pm4py = pytest.importorskip("pm4py")


def read_xes(path: Path) -> Any:
    """pm4py's reader with its standard XML parser named: left to choose, pm4py warns that
    an optional Rust reader is not installed (warnings are errors here), and the XML
    parser is the stricter reading anyway."""
    return pm4py.read_xes(str(path), variant="iterparse")

XES_NS = "{http://www.xes-standard.org/}"
APPLICANT = {"applicant_national_id": "880312400523", "applicant_name": "Dana Serikbayeva",
             "applicant_phone": "+77017770011", "applicant_email": "dana.s@example.org"}


def at(month: int, day: int, hour: int = 5) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def application(country: Country, service: Service, number: str, submitted: datetime,
                **extra: object) -> Application:
    standard = service.versions.order_by("-valid_from").first()
    assert standard is not None
    return Application.objects.create(
        number=number, country=country, service=service, standard=standard,
        workflow=service.workflow, state="submitted", channel=extra.pop("channel", "portal"),
        agency=service.provider, submitted_at=submitted,
        deadline_at=submitted + timedelta(days=10), **APPLICANT, **extra)  # type: ignore[arg-type]


def steps(app: Application, start: datetime,
          path: list[tuple[str, str, str, str, User | None]]) -> None:
    state = ""
    for hours, (action, to_state, role, clock, actor) in enumerate(path):
        ApplicationEvent.objects.create(
            application=app, at=start + timedelta(hours=hours), action=action,
            from_state=state, to_state=to_state, actor_role=role, clock=clock, actor=actor,
            comment="called Dana Serikbayeva on +77017770011")
        state = to_state


@pytest.fixture
def history(mini_country: Country, make_user: Callable[..., User]) -> dict[str, Application]:
    service = Service.objects.get(country=mini_country, code="01010001")
    other = Service.objects.get(country=mini_country, code="02020001")
    centre = Centre.objects.get(country=mini_country, code="AST-01")
    officer = make_user("officer", country_code="zz", agency_code=service.provider.code)
    officer.first_name, officer.last_name = "Yerlan", "Officerov"
    officer.save()
    operator = make_user("operator", country_code="zz", centre_code="AST-01")
    apps = {
        "A": application(mini_country, service, "XA-1", at(7, 1)),
        "B": application(mini_country, service, "XB-2", at(7, 2)),
        "C": application(mini_country, service, "XC-3", at(7, 3), channel="centre",
                         centre=centre, submitted_by=operator),
        "D": application(mini_country, service, "XD-4", at(6, 10)),
        "E": application(mini_country, other, "XE-5", at(7, 4)),
    }
    happy = [("submit", "submitted", "citizen", "", None),
             ("accept", "in_review", "officer", "", officer),
             ("approve", "approved", "supervisor", "", None),
             ("issue", "issued", "officer", "", officer)]
    steps(apps["A"], at(7, 1), happy)
    steps(apps["B"], at(7, 2), [
        ("submit", "submitted", "citizen", "", None),
        ("accept", "in_review", "officer", "", officer),
        ("request_documents", "awaiting_applicant", "officer", "stop", officer),
        ("provide_documents", "in_review", "citizen", "resume", None),
        ("refuse", "refused", "officer", "", officer)])
    steps(apps["C"], at(7, 3), [("submit", "submitted", "operator", "", operator), *happy[1:]])
    steps(apps["D"], at(6, 10), happy)
    steps(apps["E"], at(7, 4), happy[:2])
    return apps


def export(tmp_path: Path) -> Path:
    out = tmp_path / "log.xes"
    call_command("export", "xes", "--service", "01010001", "--period", "2026-Q3",
                 "--country", "zz", "--out", str(out))
    return out


def test_the_log_is_well_formed_xes_with_the_standard_extensions(
        history: dict[str, Application], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = export(tmp_path)
    assert "3 traces, 13 events" in capsys.readouterr().out
    log = ET.parse(out).getroot()  # noqa: S314 (our own export, in a test)
    assert log.tag == f"{XES_NS}log"
    assert log.get("xes.version") == "1849-2016"
    extensions = {e.get("prefix"): e.get("uri") for e in log.findall(f"{XES_NS}extension")}
    assert extensions == {
        "concept": "http://www.xes-standard.org/concept.xesext",
        "time": "http://www.xes-standard.org/time.xesext",
        "lifecycle": "http://www.xes-standard.org/lifecycle.xesext",
        "org": "http://www.xes-standard.org/org.xesext",
    }
    traces = log.findall(f"{XES_NS}trace")
    names = [t.find(f"{XES_NS}string[@key='concept:name']").get("value")  # type: ignore[union-attr]
             for t in traces]
    assert names == ["XA-1", "XB-2", "XC-3"]
    c_events = traces[2].findall(f"{XES_NS}event")
    first = {s.get("key"): s.get("value") for s in c_events[0]}
    assert first["concept:name"] == "submit"
    assert first["time:timestamp"] == "2026-07-03T05:00:00.000+00:00"
    assert first["lifecycle:transition"] == "complete"
    assert first["org:resource"] == first["org:role"] == "operator"
    assert first["org:group"] == "AST-01"  # at the centre's counter
    second = {s.get("key"): s.get("value") for s in c_events[1]}
    assert second["org:resource"] == "officer"
    assert second["org:group"] == history["C"].agency.code


def test_nothing_in_the_log_names_a_person(history: dict[str, Application],
                                           tmp_path: Path) -> None:
    text = export(tmp_path).read_text(encoding="utf-8")
    for secret in (*APPLICANT.values(), "Serikbayeva", "Yerlan", "Officerov", "officer-"):
        assert secret not in text, secret


def test_pm4py_reads_the_log_and_discovers_the_process(history: dict[str, Application],
                                                       tmp_path: Path) -> None:
    log = read_xes(export(tmp_path))
    assert sorted(log["case:concept:name"].unique()) == ["XA-1", "XB-2", "XC-3"]
    assert len(log) == 13
    activities = {"submit", "accept", "approve", "issue", "request_documents",
                  "provide_documents", "refuse"}
    assert set(log["concept:name"]) == activities

    dfg, starts, ends = pm4py.discover_dfg(log)
    assert starts == {"submit": 3}
    assert ends == {"issue": 2, "refuse": 1}
    assert dfg == {
        ("submit", "accept"): 3, ("accept", "approve"): 2, ("approve", "issue"): 2,
        ("accept", "request_documents"): 1, ("request_documents", "provide_documents"): 1,
        ("provide_documents", "refuse"): 1,
    }
    net, initial, final = pm4py.discover_petri_net_inductive(log)
    labels = {t.label for t in net.transitions if t.label is not None}
    assert labels == activities
    fitness = pm4py.fitness_token_based_replay(log, net, initial, final)
    assert fitness["perc_fit_traces"] == 100.0


def test_the_period_selects_by_submission(history: dict[str, Application],
                                          mini_country: Country, tmp_path: Path) -> None:
    out = tmp_path / "june.xes"
    call_command("export", "xes", "--service", "01010001", "--period", "2026-06",
                 "--country", "zz", "--out", str(out))
    log = read_xes(out)
    assert list(log["case:concept:name"].unique()) == ["XD-4"]
    service = Service.objects.get(country=mini_country, code="01010001")
    start, end = period_bounds("2026-Q3", ZoneInfo(mini_country.time_zone))
    rows = selectors.event_log(mini_country, service, start, end)
    assert isinstance(rows, Iterator)
    assert [r.case for r in rows].count("XB-2") == 5


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2026-13"], "period '2026-13': use a year"),
    (["--period", "Q3"], "period 'Q3': use a year"),
    (["--service", "99999999"], "no service '99999999' in the register of zz"),
    (["--service", "../etc"], "give the service's code"),
    (["--country", "xx"], "no country 'xx' is loaded"),
])
def test_bad_input_is_a_one_line_error(history: dict[str, Application], tmp_path: Path,
                                       args: list[str], message: str) -> None:
    out = tmp_path / "bad.xes"
    options = {"--service": "01010001", "--period": "2026-Q3", "--country": "zz"}
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [part for pair in options.items() for part in pair]
    with pytest.raises(CommandError) as failure:
        call_command("export", "xes", *flat, "--out", str(out))
    assert message in str(failure.value)
    assert not out.exists()


class _Counter(io.TextIOBase):
    """A sink that keeps nothing but the number of characters written."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def _peak_memory(cases: int) -> tuple[int, int, xes.Written]:
    """Write a synthetic log of `cases` five-step cases from a generator into a counting
    sink; the peak memory traced while writing, the characters written, the counts."""
    start = datetime(2026, 7, 1, tzinfo=UTC)

    def rows() -> Iterator[selectors.EventRow]:
        for case in range(cases):
            for step, action in enumerate(("submit", "accept", "approve", "issue", "notify")):
                yield selectors.EventRow(
                    case=f"N-{case:06d}", channel="portal", outcome="issued", agency="AG",
                    centre="", action=action, at=start + timedelta(minutes=case + step),
                    from_state="", to_state=action, role="officer", clock="")

    sink = _Counter()
    tracemalloc.start()
    try:
        written = xes.write(sink, rows(), name="large")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, sink.size, written


def test_the_writer_streams_in_constant_memory() -> None:
    """Ten times the events, ten times the output, the same memory: the writer holds one
    event at a time, so a log of hundreds of thousands of events needs no more."""
    small_peak, small_size, small = _peak_memory(400)
    large_peak, large_size, large = _peak_memory(4_000)
    assert (small.traces, small.events) == (400, 2_000)
    assert (large.traces, large.events) == (4_000, 20_000)
    assert large_size > 9 * small_size
    assert large_peak < small_peak + 64_000
    assert large_peak < large_size / 50


def test_export_lake_still_works(mini_country: Country, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    call_command("export", "lake", "--out", str(tmp_path / "lake"))
    assert (tmp_path / "lake" / "lake.json").exists()
    assert "lake written to" in capsys.readouterr().out
