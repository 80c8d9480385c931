"""The ground truth: a generated history with one injected pattern per red flag, the flags
computed on the live database and on the Parquet lake, stored, and measured.

SLOW (about 30 s on SQLite on a quiet machine): the test that uses `history` generates
a demo history of 2,500 applications (with centres, ratings, complaints) and injects the
patterns; the checks on it are therefore grouped into that one test.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from onestop.applications.models import Application, ApplicationEvent
from onestop.catalogue.models import Country
from onestop.catalogue.packs import read_pack, resolve_pack_path
from onestop.catalogue.services import load_pack
from onestop.centres.models import Ticket
from onestop.demo.generator import Params
from onestop.demo.writer import generate
from onestop.integrity import anomalies, redflags_sources, services
from onestop.integrity.flags_config import FLAG_CODES
from onestop.integrity.models import FlagResult, FlagRun

PERIOD = "2025-Q3"


@pytest.fixture
def history(db: None) -> dict[str, Any]:
    """kz with 2,500 demo applications of 2025 and the anomalies in 2025-Q3."""
    load_pack(read_pack(resolve_pack_path("kz")))
    params = Params(applications=2500, seed=3, year=2025, now=timezone.now(), batch="t",
                    chunk_size=1000)
    generate("kz", params, pipeline=False)
    country = Country.objects.get(code="kz")
    truth = anomalies.inject(country, PERIOD, seed=3).as_json()
    return {"country": country, "truth": truth}


@pytest.mark.django_db
def test_every_injected_pattern_is_flagged_with_its_evidence(
        history: dict[str, Any], tmp_path: Path) -> None:
    raised = services.compute(country=history["country"], period=PERIOD)
    report = services.evaluate(history["truth"], raised)
    assert set(report) == set(FLAG_CODES)
    for code, row in report.items():
        assert row["expected"] == 2, code
        assert row["recall"] >= 0.9, (code, row)
        assert row["precision"] >= 0.9, (code, row)
        assert row["evidence_recall"] >= 0.9, (code, row)

    # the truth names records that exist and show the pattern
    truth = history["truth"]
    assert truth["period"] == PERIOD
    refused = truth["flags"]["refusal_rate"][0]
    apps = Application.objects.filter(pk__in=refused["evidence"]["applications"])
    assert apps.count() >= 18  # the 18 of the pattern and any ordinary refusals
    assert set(apps.values_list("outcome", flat=True)) == {"refused"}
    assert set(ApplicationEvent.objects.filter(application__in=apps, action="refuse")
               .values_list("actor_id", flat=True)) == {refused["id"]}
    favoured = truth["flags"]["out_of_order"][0]
    tickets = Ticket.objects.filter(pk__in=favoured["evidence"]["tickets"])
    assert tickets.count() == 24
    assert set(tickets.values_list("operator_id", flat=True)) == {favoured["id"]}
    # the planted applications: demo data of the injection's batch, the flag in its own
    # field, nothing in the citizen's form data
    planted = Application.objects.filter(country=history["country"]).exclude(planted_flag="")
    assert planted.count() >= 18
    assert set(planted.values_list("planted_flag", flat=True)) <= set(FLAG_CODES)
    assert set(planted.values_list("demo_batch", flat=True)) == {"kz-anomalies-seed3"}
    assert all(data == {} for data in planted.values_list("form_data", flat=True))

    # the lake gives the same flags, without national IDs
    live = raised
    redflags_sources.export_flag_lake(tmp_path)
    lake = services.compute(country=history["country"], period=PERIOD, lake=tmp_path)

    def key(items: list) -> set[tuple[str, str, int, float]]:
        return {(r.flag, r.kind, r.subject, round(r.z, 3)) for r in items}

    assert key(live) == key(lake)
    exported = (tmp_path / "flag_applications.parquet").read_bytes()
    first = Application.objects.order_by("pk").first()
    assert first is not None
    assert first.applicant_national_id.encode() not in exported

    # a stored run keeps the raised flags with their evidence and scope
    run = services.run_flags(country=history["country"], period=PERIOD)
    assert FlagRun.objects.filter(pk=run.pk).exists()
    results = FlagResult.objects.filter(run=run)
    assert results.count() == len(live)
    officer = history["truth"]["flags"]["off_hours"][0]["id"]
    night = results.get(flag="off_hours", subject_kind="officer", subject_id=officer)
    assert night.hits >= 20
    assert night.z >= 3
    assert night.score > 0
    assert len(night.evidence["applications"]) == night.hits
    assert night.agency_id is not None

    # the command reads the truth file
    truth_file = tmp_path / "truth.json"
    truth_file.write_text(json.dumps(history["truth"]))
    out = StringIO()
    call_command("integrity", "evaluate", "--truth", str(truth_file), stdout=out)
    assert "lowest precision or recall: 1.00" in out.getvalue()


@pytest.mark.django_db
def test_flags_command_on_a_quiet_country(kz: Country) -> None:
    out = StringIO()
    call_command("integrity", "flags", "--period", PERIOD, "--country", "kz", "--json",
                 stdout=out)
    document = json.loads(out.getvalue())
    assert document["period"] == PERIOD
    assert document["results"] == []
    assert document["config_version"] == "2026.1"
    run = FlagRun.objects.get(pk=document["run"])
    assert run.source.startswith("live:")
    assert run.config_sha256


@pytest.mark.django_db
def test_bad_input_gives_one_line_errors(kz: Country, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="period 'someday'"):
        call_command("integrity", "flags", "--period", "someday", "--country", "kz")
    with pytest.raises(CommandError, match="is missing: run `onestop demo --anomalies`"):
        call_command("integrity", "evaluate", "--truth", str(tmp_path / "none.json"))
    with pytest.raises(CommandError, match="holds no red-flag tables"):
        call_command("integrity", "flags", "--period", PERIOD, "--country", "kz",
                     "--lake", str(tmp_path))
    with pytest.raises(CommandError, match="no country 'xx'"):
        call_command("integrity", "flags", "--period", PERIOD, "--country", "xx")
