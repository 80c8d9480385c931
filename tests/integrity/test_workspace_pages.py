"""The control body's workspace pages: the red-flag list of the latest run of a period by
risk (filters, paging, CSV equal to the list), case files (flags over time, evidence,
notes, outcome), who may see and write what, and the audit entry of every view, export
and change."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from onestop.accounts.models import User
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Country, Region
from onestop.integrity import workspace_views
from onestop.integrity.models import CaseFile, CaseNote, FlagResult, FlagRun
from tests.integrity import history

pytestmark = pytest.mark.django_db
URL = "/integrity/flags/"


def _run(country: Country, period: str, created: dt.datetime) -> FlagRun:
    return FlagRun.objects.create(
        country=country, period=period, starts_at=created, ends_at=created,
        config_version="t", config_sha256="0" * 64, source="live:test", created_at=created)


@pytest.fixture
def ws(mini_country: Country, settings: Any, make_user: Callable[..., User]) -> dict[str, Any]:
    """Flagged subjects of zz in 2026-Q3 (latest run): in MJ-ZAGS the officers z1 (refusal
    rate 4 + off hours 3 = risk 7, on birth registration, evidence p1 and p2) and z2
    (deadline riding 5); in MLSP (region AST) m1 (refusal rate 6 on the job-seeker check)
    and m2 (overturned refusals 1.5, evidence an unknown complaint); the citizen account
    (intermediary 2, no agency). An older run of 2026-Q3 (superseded) and a run of
    2026-Q2 name z1 too."""
    settings.ONESTOP_COUNTRY = "zz"
    flow = history.build(mini_country)
    region = Region.objects.get(country=mini_country, code="AST")
    zags, mlsp = flow.zags, flow.mlsp
    scope = {"country_code": "zz"}
    z1 = make_user("officer", agency_code=zags.code, **scope)
    z2 = make_user("officer", agency_code=zags.code, **scope)
    m1 = make_user("officer", agency_code=mlsp.code, **scope)
    m2 = make_user("officer", agency_code=mlsp.code, **scope)
    citizen = make_user("citizen", national_id="880101300123")
    q2 = _run(mini_country, "2026-Q2", dt.datetime(2026, 7, 2, tzinfo=dt.UTC))
    old = _run(mini_country, "2026-Q3", dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    run = _run(mini_country, "2026-Q3", dt.datetime(2026, 10, 2, tzinfo=dt.UTC))

    def result(run: FlagRun, user: User, kind: str, flag: str, score: float, *,
               service: int | None = None, agency: int | None = None,
               region_id: int | None = None, evidence: dict[str, list[int]] | None = None
               ) -> FlagResult:
        return FlagResult(run=run, subject_kind=kind, subject_id=user.pk, flag=flag,
                          service_id=service, agency_id=agency, region_id=region_id,
                          value=0.25, z=score + 1, n=40, hits=10, peers_n=4, score=score,
                          evidence=evidence or {})

    apps = [flow.apps["p1"].pk, flow.apps["p2"].pk]
    FlagResult.objects.bulk_create([
        result(q2, z1, "officer", "refusal_rate", 2.0, service=flow.birth.pk, agency=zags.pk),
        result(old, z1, "officer", "refusal_rate", 9.0, service=flow.birth.pk,
               agency=zags.pk),
        result(old, m2, "officer", "overturned_refusals", 9.5, agency=mlsp.pk),
        result(run, z1, "officer", "refusal_rate", 4.0, service=flow.birth.pk,
               agency=zags.pk, evidence={"applications": apps}),
        result(run, z1, "officer", "off_hours", 3.0, service=flow.birth.pk, agency=zags.pk,
               evidence={"applications": apps[:1]}),
        result(run, z2, "officer", "deadline_riding", 5.0, service=flow.birth.pk,
               agency=zags.pk),
        result(run, m1, "officer", "refusal_rate", 6.0, service=flow.check.pk,
               agency=mlsp.pk, region_id=region.pk),
        result(run, m2, "officer", "overturned_refusals", 1.5, agency=mlsp.pk,
               region_id=region.pk, evidence={"complaints": [987654]}),
        result(run, citizen, "citizen", "intermediary", 2.0,
               evidence={"applications": apps}),
    ])
    return {"flow": flow, "run": run, "old": old, "q2": q2, "z1": z1, "z2": z2, "m1": m1,
            "m2": m2, "citizen": citizen, "zags": zags, "mlsp": mlsp, "apps": apps}


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def _listed(response: Any) -> list[tuple[str, float]]:
    return [(row["label"], row["risk"]) for row in response.context["rows"]]


def _audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("sequence"))


def test_a_controller_sees_the_latest_run_by_risk_and_the_view_is_audited(
        ws: dict[str, Any], make_user: Callable[..., User]) -> None:
    controller = make_user("controller")
    response = _client(controller).get(URL)  # no period: the latest run's
    assert response.status_code == 200
    assert response.context["run"] == ws["run"]
    z1, z2, m1, m2 = (ws[k].username for k in ("z1", "z2", "m1", "m2"))
    citizen = f"#{ws['citizen'].pk}"
    assert _listed(response) == [(z1, 7.0), (m1, 6.0), (z2, 5.0), (citizen, 2.0), (m2, 1.5)]
    html = response.content.decode()
    assert f'href="/integrity/cases/officer/{ws["z1"].pk}/"' in html
    assert ws["citizen"].username not in html  # citizen accounts by number only
    entries = _audits("integrity.flags_viewed")
    assert len(entries) == 1
    assert entries[0].actor_username == controller.username
    assert entries[0].subject_id == str(ws["run"].pk)
    assert entries[0].data["shown"] == 5
    assert entries[0].data["filters"]["period"] == "2026-Q3"
    q2 = _client(controller).get(URL, {"period": "2026-Q2"})
    assert _listed(q2) == [(z1, 2.0)]
    assert len(_audits("integrity.flags_viewed")) == 2


def test_filters_by_flag_agency_region_and_service(
        ws: dict[str, Any], make_user: Callable[..., User]) -> None:
    client = _client(make_user("controller"))
    z1, z2, m1, m2 = (ws[k].username for k in ("z1", "z2", "m1", "m2"))
    query = {"period": "2026-Q3"}
    assert _listed(client.get(URL, {**query, "flag": "refusal_rate"})) == [(m1, 6.0),
                                                                           (z1, 4.0)]
    assert _listed(client.get(URL, {**query, "agency": "MLSP"})) == [(m1, 6.0), (m2, 1.5)]
    assert _listed(client.get(URL, {**query, "region": "AST"})) == [(m1, 6.0), (m2, 1.5)]
    assert _listed(client.get(URL, {**query, "service": "01010001"})) == [(z1, 7.0),
                                                                          (z2, 5.0)]
    both = client.get(URL, {**query, "service": "01010001", "flag": "off_hours"})
    assert _listed(both) == [(z1, 3.0)]
    entry = _audits("integrity.flags_viewed")[-1]
    assert entry.data["filters"] == {"period": "2026-Q3", "service": "01010001",
                                     "flag": "off_hours", "page": 1}


def test_bad_filters_are_form_errors(ws: dict[str, Any],
                                     make_user: Callable[..., User]) -> None:
    client = _client(make_user("controller"))
    for bad, message in [({"period": "someday"}, "Write the period as"),
                         ({"period": "2026-Q3", "flag": "bribery"}, "Select a valid choice"),
                         ({"period": "2026-Q3", "agency": "NOPE"}, "Select a valid choice"),
                         ({"period": "2026-Q3", "service": "99999999"},
                          "There is no service with this code")]:
        response = client.get(URL, bad)
        assert response.status_code == 400, bad
        assert message in response.content.decode(), bad
        assert 'aria-invalid="true"' in response.content.decode()
    missing = client.get(URL, {"period": "2025-Q1"})
    assert missing.status_code == 404
    assert "No red flags have been computed for this period" in missing.content.decode()
    assert _audits("integrity.flags_viewed") == []


def test_the_list_is_paged(ws: dict[str, Any], make_user: Callable[..., User],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace_views, "PER_PAGE", 2)
    client = _client(make_user("controller"))
    second = client.get(URL, {"period": "2026-Q3", "page": 2})
    assert [(r["rank"], r["label"]) for r in second.context["rows"]] == [
        (3, ws["z2"].username), (4, f"#{ws['citizen'].pk}")]
    html = second.content.decode()
    assert "Page 2 of 3" in html
    assert "?period=2026-Q3&amp;page=3" in html
    assert _audits("integrity.flags_viewed")[-1].data["shown"] == 2


def test_the_csv_is_the_filtered_list_and_is_audited(
        ws: dict[str, Any], make_user: Callable[..., User]) -> None:
    controller = make_user("controller")
    client = _client(controller)
    query = {"period": "2026-Q3", "agency": "MJ-ZAGS"}
    shown = client.get(URL, query)
    assert shown.context["csv_url"] == "/integrity/flags/?period=2026-Q3&agency=MJ-ZAGS" \
                                       "&format=csv"
    export = client.get(URL, {**query, "format": "csv"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert "attachment" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == workspace_views.CSV_HEADER
    assert [(r[3], float(r[6])) for r in rows[1:]] == _listed(shown)
    assert rows[1] == ["1", "officer", str(ws["z1"].pk), ws["z1"].username, "MJ-ZAGS", "",
                       "7.00", "refusal_rate:4.00; off_hours:3.00"]
    same = client.get("/integrity/flags.csv", query)
    assert same.content == export.content
    entries = _audits("integrity.flags_exported")
    assert len(entries) == 2
    assert entries[0].actor_username == controller.username
    assert entries[0].data == {"period": "2026-Q3", "shown": 2,
                               "filters": {"period": "2026-Q3", "agency": "MJ-ZAGS"}}


def test_a_supervisor_sees_their_agency_only(ws: dict[str, Any],
                                            make_user: Callable[..., User]) -> None:
    supervisor = make_user("supervisor", agency_code="MJ-ZAGS", country_code="zz")
    client = _client(supervisor)
    response = client.get(URL, {"period": "2026-Q3"})
    assert response.status_code == 200
    assert _listed(response) == [(ws["z1"].username, 7.0), (ws["z2"].username, 5.0)]
    other = client.get(URL, {"period": "2026-Q3", "agency": "MLSP"})
    assert other.status_code == 403
    assert "own agency" in other.content.decode()
    export = client.get("/integrity/flags.csv", {"period": "2026-Q3"})
    assert len(export.content.decode().strip().splitlines()) == 3
    assert _audits("integrity.flags_exported")[0].actor_role == "supervisor"
    # case files: own agency's subjects readable, not writable; others refused
    own = client.get(f"/integrity/cases/officer/{ws['z1'].pk}/")
    assert own.status_code == 200
    assert "Add the note" not in own.content.decode()
    assert client.get(f"/integrity/cases/officer/{ws['m1'].pk}/").status_code == 403
    assert client.get(f"/integrity/cases/citizen/{ws['citizen'].pk}/").status_code == 403
    note = client.post(f"/integrity/cases/officer/{ws['z1'].pk}/notes/", {"text": "mine"})
    assert note.status_code == 403
    outcome = client.post(f"/integrity/cases/officer/{ws['z1'].pk}/outcome/",
                          {"outcome": "referred", "reason": "x"})
    assert outcome.status_code == 403
    assert not CaseNote.objects.exists()
    assert not CaseFile.objects.exists()


@pytest.mark.parametrize(("role", "scope"), [
    ("officer", {"agency_code": "MJ-ZAGS", "country_code": "zz"}),
    ("operator", {"centre_code": "AST-01", "country_code": "zz"}),
    ("analyst", {}),
    ("citizen", {}),
    ("supervisor", {"centre_code": "AST-01", "country_code": "zz"}),  # of a centre
])
def test_others_are_refused(ws: dict[str, Any], make_user: Callable[..., User], role: str,
                            scope: dict[str, str]) -> None:
    client = _client(make_user(role, **scope))
    assert client.get(URL, {"period": "2026-Q3"}).status_code == 403
    assert client.get("/integrity/flags.csv", {"period": "2026-Q3"}).status_code == 403
    assert client.get(f"/integrity/cases/officer/{ws['z1'].pk}/").status_code == 403
    assert client.post(f"/integrity/cases/officer/{ws['z1'].pk}/notes/",
                       {"text": "x"}).status_code == 403
    assert AuditEntry.objects.filter(action__startswith="integrity.").count() == 0


def test_anonymous_visitors_sign_in_first(ws: dict[str, Any]) -> None:
    client = Client()
    for url in (URL, "/integrity/flags.csv", f"/integrity/cases/officer/{ws['z1'].pk}/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "login" in response["Location"]
    assert client.post(f"/integrity/cases/officer/{ws['z1'].pk}/notes/",
                       {"text": "x"}).status_code == 302
    assert not CaseNote.objects.exists()


def test_a_case_file_shows_flags_over_time_and_evidence(
        ws: dict[str, Any], make_user: Callable[..., User]) -> None:
    controller = make_user("controller")
    client = _client(controller)
    response = client.get(f"/integrity/cases/officer/{ws['z1'].pk}/")
    assert response.status_code == 200
    rows = [(r["result"].run.period, r["result"].flag, r["result"].score)
            for r in response.context["history"]]
    assert rows == [("2026-Q3", "refusal_rate", 4.0), ("2026-Q3", "off_hours", 3.0),
                    ("2026-Q3", "refusal_rate", 9.0), ("2026-Q2", "refusal_rate", 2.0)]
    evidence = {e["flag"]: [rec["label"] for k in e["kinds"] for rec in k["records"]]
                for e in response.context["evidence"]}
    p1, p2 = ws["flow"].apps["p1"].number, ws["flow"].apps["p2"].number
    assert evidence == {"refusal_rate": sorted([p1, p2]), "off_hours": [p1]}
    html = response.content.decode()
    assert f'href="/office/{p1}/"' in html
    assert ws["z1"].username in html
    entry = _audits("integrity.case_viewed")[-1]
    assert (entry.actor_username, entry.subject_type, entry.subject_id) == (
        controller.username, "flag_subject:officer", f"zz:{ws['z1'].pk}")
    # a citizen account's case: by number, no name or national ID
    citizen = client.get(f"/integrity/cases/citizen/{ws['citizen'].pk}/")
    assert citizen.status_code == 200
    text = citizen.content.decode()
    assert ws["citizen"].username not in text
    assert ws["citizen"].national_id not in text
    # complaints are listed by number; unknown records are left out
    other = client.get(f"/integrity/cases/officer/{ws['m2'].pk}/")
    assert [(k["total"], k["records"]) for e in other.context["evidence"]
            for k in e["kinds"]] == [(1, [])]
    assert client.get("/integrity/cases/minister/1/").status_code == 404
    assert client.get(f"/integrity/cases/officer/{controller.pk}/").status_code == 404


def test_a_controller_adds_notes_and_decides_the_outcome(
        ws: dict[str, Any], make_user: Callable[..., User]) -> None:
    controller = make_user("controller")
    client = _client(controller)
    case_url = f"/integrity/cases/officer/{ws['z1'].pk}/"
    empty = client.post(case_url + "notes/", {"text": "   "})
    assert empty.status_code == 400
    assert "This field is required" in empty.content.decode()
    added = client.post(case_url + "notes/", {"text": "Asked MJ-ZAGS for the files."})
    assert added.status_code == 302
    assert added["Location"] == case_url
    note = CaseNote.objects.get()
    assert (note.text, note.author, note.case.subject_kind, note.case.subject_id) == (
        "Asked MJ-ZAGS for the files.", controller, "officer", ws["z1"].pk)
    bad = client.post(case_url + "outcome/", {"outcome": "fired",
                                              "reason": "Kept reason text"})
    assert bad.status_code == 400
    assert "Kept reason text" in bad.content.decode()  # nothing lost
    no_reason = client.post(case_url + "outcome/", {"outcome": "referred", "reason": ""})
    assert no_reason.status_code == 400
    assert CaseFile.objects.get().outcome == ""
    decided = client.post(case_url + "outcome/", {"outcome": "inspection",
                                                  "reason": "Refusals on one service."})
    assert decided.status_code == 302
    case = CaseFile.objects.get()
    assert (case.outcome, case.outcome_reason, case.decided_by) == (
        "inspection", "Refusals on one service.", controller)
    assert case.decided_at is not None
    page = client.get(case_url).content.decode()
    assert "inspection ordered" in page
    assert "Asked MJ-ZAGS for the files." in page
    notes = _audits("integrity.case_note_added")
    assert [(e.actor_username, e.data["note"]) for e in notes] == [
        (controller.username, note.pk)]
    outcomes = _audits("integrity.case_outcome_set")
    assert [(e.data["outcome"], e.data["previous"]) for e in outcomes] == [("inspection", "")]
    assert "Refusals" not in str(outcomes[0].data)  # free text stays out of the chain
