"""`onestop opendata build` on the mini pack with the hand-built history of
tests/quality/history.py (2026-Q3 of zz: see its docstring), values worked out by hand."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.feedback.models import Rating
from onestop.opendata import build
from onestop.quality import services as quality
from tests.quality import history

MINI_PACK = Path(__file__).parent.parent / "catalogue" / "data" / "mini"
Q3 = ("zz", "2026-Q3")


@pytest.fixture
def built(mini_country: Country, make_user: Callable[..., User]) -> history.History:
    op1 = make_user("operator", country_code="zz", centre_code="AST-01")
    op2 = make_user("operator", country_code="zz", centre_code="AST-01")
    quality.load_methodology(country=mini_country,
                             definition=quality.read_methodology(MINI_PACK))
    return history.build(mini_country, op1, op2)


def run_build(out: Path, *args: str) -> str:
    stdout = StringIO()
    call_command("opendata", "build", "--out", str(out), *args, stdout=stdout)
    return stdout.getvalue()


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def by_unit(path: Path) -> dict[str, dict[str, str]]:
    return {row["unit_code"]: row for row in csv_rows(path)}


def q3(out: Path, name: str) -> Path:
    return out.joinpath(*Q3, name)


def test_performance_by_service_worked_out_by_hand(built, tmp_path):
    run_build(tmp_path, "--country", "zz", "--period", "2026-Q3")
    rows = by_unit(q3(tmp_path, "performance_service.csv"))
    zags = rows["01010001"]
    # received in Q3: z1..z10, z12 (portal: z1..z8, z12), z13 (centre: z9, z10, z13); z11
    # was submitted in June
    assert zags["applications_received"] == "12"
    assert (zags["received_portal"], zags["received_centre"], zags["received_api"]) == (
        "9", "3", "0")
    assert float(zags["digital_share"]) == 0.75
    # finished in Q3: z1..z10 (z12 withdrawn, z13 open); late: z9 only
    assert zags["applications_completed"] == "10"
    assert zags["completed_on_time"] == "9"
    assert float(zags["deadline_compliance"]) == 0.9
    # z1..z8 took 7 days, z9 and z10 14: median 7; 90th percentile (9th of 10) 14
    assert float(zags["processing_days_median"]) == 7.0
    assert float(zags["processing_days_p90"]) == 14.0
    assert zags["refusals"] == "1"  # z10
    assert float(zags["refusal_rate"]) == 0.1
    # 4 ratings, 3 complaints, 3 violations: under 10, left empty and named
    for column in ("ratings", "response_rate", "rated_legality", "satisfaction_mean_legality",
                   "complaints", "complaints_upheld", "violations"):
        assert zags[column] == "", column
        assert column in zags["suppressed"].split()
    # service figures: no queue tickets (published as 0: zero identifies no one)
    assert zags["tickets_served"] == "0"
    assert zags["wait_minutes_median"] == ""
    # the social ministry's service: 5 applications, everything suppressed
    mlsp = rows["02020001"]
    assert mlsp["applications_received"] == ""
    assert mlsp["deadline_compliance"] == ""
    assert "applications_received" in mlsp["suppressed"].split()
    assert mlsp["unit_name"] == "Registration of job seekers"


def test_sdg_statistics_per_service(built, tmp_path):
    run_build(tmp_path, "--country", "zz", "--period", "2026-Q3")
    rows = {r["subject_matter"]: r for r in csv_rows(q3(tmp_path, "sdg_statistics.csv"))}
    zags = rows["01010001"]
    assert zags["reporting_period"] == "2026-Q3"
    assert (zags["period_start"], zags["period_end"]) == ("2026-07-01", "2026-09-30")
    assert (zags["country"], zags["service_provider"]) == ("ZZ", "MJ-ZAGS")
    assert (zags["requests_total"], zags["requests_online"], zags["requests_in_person"]) == (
        "12", "9", "3")
    assert zags["requests_citizens"] == ""  # not recorded by onestop
    assert zags["requests_closed"] == "10"
    # (8 * 7 + 14 + 14) / 10 days
    assert float(zags["response_time_days_average"]) == 8.4
    assert float(zags["response_time_days_median"]) == 7.0
    assert float(zags["answered_within_deadline_share"]) == 0.9
    assert rows["02020001"]["requests_total"] == ""


def test_small_cells_are_suppressed_and_rows_merged(built, tmp_path, mini_country):
    # 12 more late complaints about z1 on one ground: that row reaches 10, the others merge
    for i in range(12):
        history.complaint(built.apps["z1"], "missed_deadline", registered=history.jul(18),
                          deadline=history.jul(25), decided=history.jul(21 + i % 3),
                          decision="rejected")
    run_build(tmp_path, "--country", "zz", "--period", "2026-Q3")
    rows = [r for r in csv_rows(q3(tmp_path, "complaints_service.csv"))
            if r["unit_code"] == "01010001"]
    # z1/z9 missed_deadline rejected: c2, c3 + 12 = 14; the rest (c1 upheld, c4 pending):
    # 2, merged into _other and left empty
    assert [(r["level"], r["ground"], r["outcome"], r["complaints"], r["suppressed"])
            for r in rows] == [
        ("provider", "missed_deadline", "rejected", "14", "false"),
        ("_other", "_other", "_other", "", "true"),
    ]
    perf = by_unit(q3(tmp_path, "performance_agency.csv"))["MJ-ZAGS"]
    # 4 + 12 complaints to the provider now: published, with those answered in time
    # (c1, c3 and the 12 decided by their deadline of 07-25) and the upheld (c1)
    assert perf["complaints"] == "16"
    assert perf["complaints_answered_in_time"] == "14"
    assert perf["complaints_upheld"] == "1"
    assert "complaints" not in perf["suppressed"].split()


def test_csv_json_and_parquet_hold_the_same_figures(built, tmp_path):
    run_build(tmp_path, "--country", "zz", "--period", "2026-Q3")
    folder = tmp_path.joinpath(*Q3)
    for path in folder.glob("*.csv"):
        from_csv = csv_rows(path)
        document = json.loads(path.with_suffix(".json").read_text())
        table = pq.read_table(path.with_suffix(".parquet"))
        assert document["columns"] == table.column_names == list(from_csv[0]) if from_csv \
            else document["columns"] == table.column_names
        from_parquet = table.to_pylist()
        assert len(from_csv) == len(document["rows"]) == len(from_parquet), path.name

        def text(value: Any) -> str:
            if value is None:
                return ""
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)

        for c_row, j_row, p_row in zip(from_csv, document["rows"], from_parquet, strict=True):
            assert {k: text(v) for k, v in j_row.items()} == c_row, path.name
            assert j_row == p_row, path.name
        assert document["methodology_version"] == "example-1"
        assert document["licence"] == "CC-BY-4.0"


def test_manifest_dictionary_and_licence(built, tmp_path):
    out = run_build(tmp_path, "--country", "zz", "--period", "2026-Q3")
    assert "zz 2026-Q3: written" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["licence"]["id"] == "CC-BY-4.0"
    assert manifest["countries"]["zz"][0]["methodology_version"] == "example-1"
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
               if p.is_file() and p.name not in ("manifest.json", "index.json")}
    assert set(listed) == on_disk
    for path, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256((tmp_path / path).read_bytes()).hexdigest()
    assert listed["zz/2026-Q3/performance_service.csv"]["rows"] == 2
    dictionary = json.loads((tmp_path / "zz" / "dictionary.json").read_text())
    datasets = {d["code"]: d for d in dictionary["datasets"]}
    # every column of every file is in the dictionary with a meaning
    for path in tmp_path.joinpath(*Q3).glob("*.csv"):
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        documented = {c["name"]: c for c in datasets[path.stem]["columns"]}
        assert header == list(documented), path.name
        assert all(c["meaning"] for c in documented.values())
    assert {c["name"] for c in datasets["performance_agency"]["columns"]} >= {
        "satisfaction_mean_legality", "satisfied_share_timeliness", "received_centre"}


def test_comments_are_published_without_personal_data(built, tmp_path, make_user):
    person = make_user("citizen")
    person.first_name, person.last_name = "Aigerim", "Nurlanova"
    person.save()
    z1 = built.apps["z1"]
    z1.applicant_name = "Bolat Serikov"
    z1.save()
    rating = Rating.objects.get(application=z1)
    rating.comment = ("Operator aigerim NURLANOVA was slow. Bolat: call me at +7 (701) "
                      "555-12-34, mail bolat.s@example.kz, IIN 900101300011. Thanks!")
    rating.save()
    run_build(tmp_path, "--country", "zz", "--period", "2026-Q3")
    rows = csv_rows(q3(tmp_path, "rating_comments.csv"))
    assert rows == [{
        "period": "2026-Q3", "month": "2026-07", "service_code": "01010001",
        "agency_code": "MJ-ZAGS", "centre_code": "", "score_legality": "5",
        "score_timeliness": "4",
        "comment": "Operator [name] [name] was slow. [name]: call me at [number], mail "
                   "[email], IIN [number]. Thanks!",
    }]


def test_every_period_with_data_by_default(built, tmp_path):
    written = build.write_all(tmp_path, country="zz")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    # applications from June (z11) and July: Q2, Q3 and the year
    assert [p["period"] for p in manifest["countries"]["zz"]] == ["2026-Q2", "2026-Q3", "2026"]
    assert tmp_path / "manifest.json" in written
    with pytest.raises(build.OpenDataError, match="no country 'qq'"):
        build.write_all(tmp_path, country="qq")


def test_bad_input_is_a_one_line_error(built, tmp_path):
    with pytest.raises(CommandError, match="period '2026-Q5'"):
        run_build(tmp_path, "--period", "2026-Q5")
    with pytest.raises(CommandError, match="no country 'qq'"):
        run_build(tmp_path, "--country", "qq")


def test_figures_equal_the_stored_assessment_run(built, tmp_path, mini_country):
    # enough applications at the social ministry (5 + 10) for its figures to be published
    service = built.apps["m1"].service
    for _ in range(10):
        history.application(mini_country, service, channel="portal",
                            submitted=history.jul(4, 5), deadline=history.jul(4, 5, 10),
                            completed=history.jul(4, 5, 20), outcome="issued")
    run = quality.run_assessment(country=mini_country, period="2026-Q3", scope="agency")
    run_build(tmp_path, "--country", "zz", "--period", "2026-Q3")
    published = by_unit(q3(tmp_path, "performance_agency.csv"))
    for result in run.results.all():
        row = published[result.unit_code]
        counts = result.counts
        assert int(row["applications_received"]) == counts["submitted"]
        assert int(row["applications_completed"]) == counts["finished"]
        assert int(row["completed_on_time"]) == counts["finished"] - counts["late"]
        assert int(row["refusals"]) == counts["refusals"]
        assert float(row["digital_share"]) == round(counts["digital"] / counts["submitted"], 4)
    mlsp = published["MLSP"]
    # m1..m5 and the 10 more; 10 of them late (finished 20 minutes after 10 allowed)
    assert (mlsp["applications_received"], mlsp["applications_completed"],
            mlsp["completed_on_time"], mlsp["deadline_compliance"]) == ("15", "15", "5",
                                                                        "0.3333")


def test_the_published_audit_heads_are_open_data(built, tmp_path):
    from onestop.audit.selectors import head
    from onestop.public.models import PublishedHead

    sequence, digest = head()
    PublishedHead.objects.create(day=dt.date(2026, 10, 15), sequence=sequence, hash=digest)
    run_build(tmp_path, "--country", "zz", "--period", "2026-Q3")
    rows = csv_rows(tmp_path / "audit_heads.csv")
    assert rows == [{"day": "2026-10-15", "sequence": str(sequence), "hash": digest,
                     "head": f"{sequence}:{digest}"}]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    assert {"audit_heads.csv", "audit_heads.json", "audit_heads.parquet"} <= set(listed)
    assert listed["audit_heads.csv"]["rows"] == 1
    # the head as published checks out against the chain
    out = StringIO()
    call_command("audit", "verify", "--against", rows[0]["head"], stdout=out)
    assert "intact" in out.getvalue()
