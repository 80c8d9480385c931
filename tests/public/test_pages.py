"""The public pages under /monitor/: open without login, read the snapshots, give every
table as CSV and every page as JSON with the same figures, show the snapshot date, suppress
small counts, and show no personal data."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from onestop.accounts.models import User
from onestop.public import pages
from onestop.public.models import PublicSnapshot
from onestop.quality.models import AssessmentResult, AssessmentRun
from tests.public.conftest import PERSON
from tests.quality import history

pytestmark = pytest.mark.django_db

PATHS = ["", "rankings/agency/", "rankings/region/", "agency/MJ-ZAGS/", "agency/MLSP/",
         "agency/MJ/", "service/01010001/", "service/02020001/", "centres/",
         "centre/AST-01/", "methodology/", "control/", "audit/"]


def flat(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def rows(csv_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text)))


def test_every_page_opens_without_login(refreshed: history.History, client: Client) -> None:
    for path in PATHS:
        response = client.get(f"/monitor/{path}")
        assert response.status_code == 200, path
        page = flat(response)
        assert "Period 2026-Q3. Figures as of 2026-10-15 07:00 (Asia/Almaty)." in page, path
        assert "Sign in" in page  # nobody is signed in
        assert 'href="/monitor/"' in page  # the header's Monitoring link


def test_no_snapshot_yet_says_so(built: history.History, client: Client) -> None:
    response = client.get("/monitor/")
    assert response.status_code == 404
    assert "onestop public refresh" in flat(response)


def test_unknown_pages_and_tables(refreshed: history.History, client: Client) -> None:
    for path in ("agency/NOPE/", "service/99999999/", "centre/NOPE/", "rankings/centre/",
                 "agency/MJ-ZAGS/nope.csv", "agency/MJ-ZAGS/index.php", "nope/",
                 "agency/a b/"):
        assert client.get(f"/monitor/{path}").status_code == 404, path


def test_ranking_page_figures_equal_the_stored_run(refreshed: history.History,
                                                    client: Client) -> None:
    page = flat(client.get("/monitor/rankings/agency/"))
    assert "<svg" in page
    assert 'role="img"' in page
    assert "Methodology t-6" in page or "methodology t-6" in page
    assert "EXAMPLE methodology, not law" in page
    assert 'href="/monitor/agency/MJ-ZAGS/"' in page
    assert 'href="/monitor/rankings/agency/ranking.csv"' in page
    run = AssessmentRun.objects.filter(period="2026-Q3", scope="agency").latest("created_at")
    table = rows(client.get("/monitor/rankings/agency/ranking.csv").content.decode())
    assert [r["code"] for r in table] == ["MJ-ZAGS", "MLSP"]
    for row in table:
        stored = AssessmentResult.objects.get(run=run, unit_code=row["code"])
        assert float(row["score"]) == stored.score
        assert int(row["n"]) == stored.n
        assert row["rank"] == (str(stored.rank) if stored.ranked else "not ranked")
        for code, value in stored.values.items():
            if value["value"] is not None and code != "cost_per_transaction":
                assert float(row[code]) == round(100 * value["value"], 1)
            assert int(row[f"{code}_n"]) == value["n"]
    assert table[0]["timeliness"] == "90.0"
    # the JSON of the page has the same table
    data = json.loads(client.get("/monitor/rankings/agency/data.json").content)
    assert data["period"] == "2026-Q3"
    assert data["tables"]["ranking"]["rows"][0][:4] == [
        "Civil Registry Department", "MJ-ZAGS", "1", "45.0"]


def test_service_page_shows_standard_and_performance(refreshed: history.History,
                                                      client: Client) -> None:
    page = flat(client.get("/monitor/service/01010001/"))
    assert "Standard and performance" in page
    assert "Median processing time" in page
    assert "7.0 days" in page
    assert "14.0 days" in page  # the 90th percentile
    performance = rows(client.get("/monitor/service/01010001/performance.csv")
                       .content.decode())
    by_measure = {r["measure"]: r for r in performance}
    assert by_measure["Finished by the deadline (%)"]["actual"] == "90.0"
    assert by_measure["Refused (%)"]["actual"] == "10.0"
    assert by_measure["Mean rating (1 to 5)"]["n"] == "<10"  # 4 ratings: suppressed
    indicators = rows(client.get("/monitor/service/01010001/indicators.csv").content.decode())
    run = AssessmentRun.objects.filter(period="2026-Q3", scope="service").latest("created_at")
    stored = AssessmentResult.objects.get(run=run, unit_code="01010001")
    for row in indicators:
        value = stored.values[row["code"]]
        assert int(row["n"]) == value["n"]
        if value["value"] is None:
            assert row["value"] == ""
        elif row["code"] == "cost_per_transaction":
            assert float(row["value"]) == round(value["value"], 2)
        else:
            assert float(row["value"]) == round(100 * value["value"], 1)


def test_small_counts_show_as_fewer_than_ten(refreshed: history.History,
                                              client: Client) -> None:
    page = flat(client.get("/monitor/control/"))
    assert "fewer than 10" in page
    table = {r["code"]: r for r in rows(client.get("/monitor/control/agencies.csv")
                                        .content.decode())}
    assert table["MJ-ZAGS"]["violations"] == "<10"  # 3 in Q3
    assert table["MJ-ZAGS"]["complaints"] == "<10"  # 4 in Q3
    assert table["MJ"]["violations"] == "0"
    # nowhere in the snapshots is the real count of 3 or 4 kept
    control = PublicSnapshot.objects.get(country=refreshed.country, key="control").data
    zags = next(r for r in control["agencies"] if r["code"] == "MJ-ZAGS")
    assert zags["violations"] is None
    assert zags["complaints"] is None


def test_centre_page_reads_the_queue_live(refreshed: history.History, client: Client) -> None:
    page = flat(client.get("/monitor/centre/AST-01/"))
    assert "Expected wait of a new ticket" in page
    assert "no counter open" in page
    period = rows(client.get("/monitor/centre/AST-01/period.csv").content.decode())
    assert period[-1]["tickets"] == "4"
    assert period[-1]["within_standard"] == "66.7"


def test_methodology_and_audit_pages(refreshed: history.History, client: Client) -> None:
    page = flat(client.get("/monitor/methodology/"))
    assert "Methodology version t-6" in page
    assert "finished by their deadline" in page
    audit = flat(client.get("/monitor/audit/"))
    assert "onestop audit verify --against SEQUENCE:HASH" in audit
    heads = rows(client.get("/monitor/audit/heads.csv").content.decode())
    assert heads[0]["day"] == "2026-10-15"
    assert heads[0]["head"] == f"{heads[0]['sequence']}:{heads[0]['hash']}"


def test_pages_in_another_language(refreshed: history.History) -> None:
    russian = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ru")
    page = flat(russian.get("/monitor/rankings/agency/"))
    assert '<html lang="ru">' in page
    assert "Департамент ЗАГС" in page  # the agency's name in Russian


def test_no_personal_data_in_any_public_output(with_person: history.History,
                                               client: Client) -> None:
    outputs = []
    for path in PATHS:
        response = client.get(f"/monitor/{path}")
        assert response.status_code == 200
        outputs.append(response.content.decode())
        outputs.append(client.get(f"/monitor/{path}data.json").content.decode())
        for table in json.loads(outputs[-1])["tables"]:
            outputs.append(client.get(f"/monitor/{path}{table}.csv").content.decode())
    outputs += [json.dumps(s.data, ensure_ascii=False) for s in PublicSnapshot.objects.all()]
    usernames = list(User.objects.values_list("username", flat=True))
    text = "\n".join(outputs)
    for value in (*PERSON.values(), "900101300011", *usernames):
        assert value not in text, value


def test_tables_as_csv_and_json_match() -> None:
    table = pages.Table("t", "caption", [("a", "A"), ("b", "B")])
    table.add(pages.text("x"), pages.percent(0.5))
    table.add(pages.text("y"), pages.count(None, hidden=True))
    assert table.as_csv() == "a,b\nx,50.0\ny,<10\n"
    assert table.as_json()["rows"] == [["x", "50.0"], ["y", "<10"]]


def test_audit_heads_api(refreshed: history.History, api_client) -> None:
    response = api_client(None).get("/api/v1/public/audit-heads")
    assert response.status_code == 200
    heads = response.json()
    assert heads[0]["day"] == "2026-10-15"
    assert heads[0]["head"] == f"{heads[0]['sequence']}:{heads[0]['hash']}"


def test_pages_read_snapshots_only(refreshed: history.History, client: Client) -> None:
    records = ("applications_", "feedback_", "centres_ticket", "control_", "quality_",
               "audit_auditentry")
    for path in PATHS:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/monitor/{path}").status_code == 200
        tables = [q["sql"] for q in captured.captured_queries
                  if any(name in q["sql"] for name in records)]
        if path.startswith("centre/"):
            # the live queue and today's waits of one centre: a few queries, one day
            assert len(tables) <= 12, path
            assert all("centres_" in sql for sql in tables), path
        else:
            assert tables == [], path
        snapshots = [q for q in captured.captured_queries
                     if "public_publicsnapshot" in q["sql"]]
        assert 1 <= len(snapshots) <= 3, path
