"""`onestop bottlenecks` and `onestop optimisation-report`: tables, JSON, the lake, the
PDF, and one-line errors."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from onestop.catalogue.models import Country
from tests.integrity import history

pytestmark = pytest.mark.django_db
AS_OF = "2026-08-15T00:00:00+00:00"


@pytest.fixture
def flow(mini_country: Country) -> history.Flow:
    return history.build(mini_country)


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bottlenecks_table_and_json(flow: history.Flow) -> None:
    text = _run("bottlenecks", "--service", "01010001", "--period", "2026-07",
                "--as-of", AS_OF)
    assert "5 applications, 5 finished" in text
    assert "slowest stage: approved; most of the deadline: approved" in text
    assert "id_card (state_database): 4 requests, 2 applications, 2 asked again" in text
    data = json.loads(_run("bottlenecks", "--service", "01010001", "--period", "2026-07",
                           "--as-of", AS_OF, "--json", "--country", "zz"))
    assert data["slowest_stage"] == "approved"
    assert data["variants"][0] == {"path": ["submitted", "in_review", "approved", "issued"],
                                   "applications": 3, "share": 0.6}


def test_bottlenecks_on_the_lake(flow: history.Flow, tmp_path: Path) -> None:
    assert "event log written" in _run("bottlenecks", "--write-lake", str(tmp_path))
    live = json.loads(_run("bottlenecks", "--service", "01010001", "--period", "2026-07",
                           "--as-of", AS_OF, "--json"))
    lake = json.loads(_run("bottlenecks", "--service", "01010001", "--period", "2026-07",
                           "--as-of", AS_OF, "--json", "--lake", str(tmp_path)))
    assert (live.pop("source"), lake.pop("source")) == ("live", "lake")
    assert live == lake


@pytest.mark.parametrize(("args", "message"), [
    (["--service", "01010001"], "--service and --period are required"),
    (["--service", "01010001", "--period", "2026-Q5"], "period '2026-Q5'"),
    (["--service", "nope", "--period", "2026-07"], "no service 'nope' in zz"),
    (["--service", "01010001", "--period", "2026", "--country", "xx"], "no country 'xx'"),
    (["--service", "01010001", "--period", "2026", "--as-of", "soon"], "not an ISO"),
    (["--service", "01010001", "--period", "2026", "--lake", "/nonexistent"], "no event log"),
])
def test_bottlenecks_errors(flow: history.Flow, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run("bottlenecks", *args)


def test_optimisation_report(flow: history.Flow, tmp_path: Path) -> None:
    text = _run("optimisation_report", "--agency", "MJ-ZAGS", "--period", "2026-07",
                "--as-of", AS_OF)
    assert "1. Automate the stage “Approved” (service 01010001)" in text
    assert "2. Take “ID card” from the state database" in text
    assert "3. Add counter staff at the centre AST-01" in text
    data = json.loads(_run("optimisation_report", "--agency", "MLSP", "--period", "2026-07",
                           "--as-of", AS_OF, "--json"))
    assert data["recommended"][0]["subject"] == "MJ-ZAGS"
    target = tmp_path / "report.pdf"
    assert "report written" in _run("optimisation_report", "--agency", "MJ-ZAGS",
                                    "--period", "2026-07", "--as-of", AS_OF,
                                    "--pdf", str(target), "--language", "kk")
    assert target.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(("args", "message"), [
    (["--agency", "NOPE", "--period", "2026-07"], "no agency 'NOPE'"),
    (["--agency", "MJ-ZAGS", "--period", "July"], "period 'July'"),
    (["--agency", "MJ-ZAGS", "--period", "2026", "--language", "xx"], "--language"),
    (["--agency", "MJ-ZAGS", "--period", "2026", "--pdf", "/nonexistent/dir/r.pdf"],
     "cannot write"),
])
def test_optimisation_report_errors(flow: history.Flow, args: list[str],
                                    message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run("optimisation_report", *args)
