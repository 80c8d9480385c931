"""`onestop assess` and `onestop export lake` end to end on the mini pack with the
hand-built history: runs are stored with their methodology version, reproduce exactly,
read the lake the same as the live database, and follow a changed weight."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.quality.models import AssessmentRun, Methodology
from tests.quality import history

MINI_PACK = Path(__file__).parent.parent / "catalogue" / "data" / "mini"
AS_OF = "2026-10-15T00:00:00+00:00"


@pytest.fixture
def built(mini_country: Country, make_user: Callable[..., User]) -> history.History:
    op1 = make_user("operator", country_code="zz", centre_code="AST-01")
    op2 = make_user("operator", country_code="zz", centre_code="AST-01")
    return history.build(mini_country, op1, op2)


def assess(*args: str) -> str:
    out = StringIO()
    call_command("assess", *args, stdout=out)
    return out.getvalue()


def pack_with(tmp_path: Path, **changes: object) -> Path:
    """A copy of the mini pack's methodology with some keys changed."""
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    document = yaml.safe_load((MINI_PACK / "methodology.yaml").read_text())
    document.update(changes)
    (folder / "methodology.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    return folder


def test_assess_stores_a_run_with_its_methodology_and_results(built):
    out = assess("--period", "2026-Q3", "--country", "zz", "--pack", str(MINI_PACK),
                 "--as-of", AS_OF)
    run = AssessmentRun.objects.get()
    assert f"run {run.pk}: zz 2026-Q3 by agency, methodology example-1 (EXAMPLE" in out
    assert run.methodology.version == "example-1"
    assert run.methodology.example
    assert run.period == "2026-Q3"
    assert run.scope == "agency"
    assert run.source.startswith("live:")
    # the window is Q3 at zz's local midnight (UTC+5)
    assert run.starts_at.isoformat() == "2026-06-30T19:00:00+00:00"
    assert run.ends_at.isoformat() == "2026-09-30T19:00:00+00:00"
    assert run.as_of.isoformat() == AS_OF
    results = {r.unit_code: r for r in run.results.all()}
    assert set(results) == {"MJ-ZAGS", "MLSP"}
    zags, mlsp = results["MJ-ZAGS"], results["MLSP"]
    # worked out in test_indicators: 55 - 10 penalty; MLSP 82.5 of 90 rescaled to 100
    assert (zags.score, zags.band, zags.penalty) == (45.0, "does_not_comply", 10.0)
    assert (mlsp.score, mlsp.band) == (91.67, "complies")
    # both below the example's 30 finished cases: shown, not ranked
    assert (zags.n, zags.ranked, zags.rank) == (10, False, None)
    assert (mlsp.n, mlsp.ranked, mlsp.rank) == (5, False, None)
    # the values behind the score, each with its n, and the counts behind those
    assert zags.values["timeliness"] == {"value": pytest.approx(0.9), "n": 10}
    assert zags.counts["late"] == 1
    assert "(not ranked)" in out


def test_a_run_reproduces_exactly_and_the_lake_gives_the_same_results(built, tmp_path):
    assess("--period", "2026-Q3", "--country", "zz", "--pack", str(MINI_PACK),
           "--as-of", AS_OF)
    original = AssessmentRun.objects.get()
    out = assess("--reproduce", str(original.pk))
    assert "identical results" in out
    again = AssessmentRun.objects.exclude(pk=original.pk).get()
    assert again.reproduces == original
    assert again.results_sha256 == original.results_sha256
    assert again.as_of == original.as_of

    export = StringIO()
    call_command("export", "lake", "--out", str(tmp_path / "lake"), stdout=export)
    assert "applications.parquet: 18 rows" in export.getvalue()
    out = assess("--reproduce", str(original.pk), "--lake", str(tmp_path / "lake"))
    assert "identical results" in out
    from_lake = AssessmentRun.objects.order_by("-pk").first()
    assert from_lake is not None
    assert from_lake.source.startswith("lake:")


def test_reproducing_after_the_data_changed_says_so(built):
    assess("--period", "2026-Q3", "--country", "zz", "--pack", str(MINI_PACK),
           "--as-of", AS_OF)
    original = AssessmentRun.objects.get()
    z1 = built.apps["z1"]
    z1.completed_at = history.jul(20)  # now late: the past was rewritten
    z1.save()
    with pytest.raises(CommandError, match="differ"):
        assess("--reproduce", str(original.pk))


def test_a_changed_weight_needs_a_new_version_and_changes_the_scores(built, tmp_path):
    assess("--period", "2026-Q3", "--country", "zz", "--pack", str(MINI_PACK),
           "--as-of", AS_OF)
    AssessmentRun.objects.all().delete()
    ranked = pack_with(tmp_path, min_cases=5)  # both agencies have 5+ finished cases
    # the same version with another definition: refused, versions are never edited
    with pytest.raises(CommandError, match="new version"):
        assess("--period", "2026-Q3", "--country", "zz", "--pack", str(ranked),
               "--as-of", AS_OF)
    ranked = pack_with(tmp_path, min_cases=5, version="example-2")
    assess("--period", "2026-Q3", "--country", "zz", "--pack", str(ranked), "--as-of", AS_OF)
    first = AssessmentRun.objects.get()
    assert first.methodology.version == "example-2"
    # MLSP 91.67 ranks above MJ-ZAGS 45
    assert [(r.unit_code, r.rank) for r in first.results.order_by("rank")] == [
        ("MLSP", 1), ("MJ-ZAGS", 2)]

    document = yaml.safe_load((ranked / "methodology.yaml").read_text())
    for indicator in document["indicators"]:
        if indicator["code"] == "timeliness":
            indicator["weight"] = 50  # 25 -> 50: the weights now add up to 125
    changed = pack_with(tmp_path, min_cases=5, version="example-3",
                        indicators=document["indicators"])
    out = assess("--period", "2026-Q3", "--country", "zz", "--pack", str(changed),
                 "--as-of", AS_OF, "--json")
    report = json.loads(out)
    assert report["methodology"] == "example-3"
    scores = {r["unit"]: r["score"] for r in report["results"]}
    # MJ-ZAGS: (55 + 25 x 0.9) / 125 x 100 = 62, minus the 10 penalty = 52;
    # MLSP (no violations, so internal control drops out): (82.5 + 25) / 115 x 100 = 93.48
    assert scores == {"MJ-ZAGS": 52.0, "MLSP": 93.48}
    latest = AssessmentRun.objects.order_by("-pk").first()
    assert latest is not None
    assert latest.methodology.version == "example-3"
    assert set(Methodology.objects.values_list("version", flat=True)) == {
        "example-1", "example-2", "example-3"}


def test_assess_by_centre_and_operator(built):
    out = assess("--period", "2026-Q3", "--country", "zz", "--pack", str(MINI_PACK),
                 "--scope", "operator", "--as-of", AS_OF, "--json")
    report = json.loads(out)
    units = {r["unit"]: r for r in report["results"]}
    # operators are shown by account number only, never by name
    assert set(units) == {str(built.op1.pk), str(built.op2.pk)}
    assert units[str(built.op1.pk)]["values"]["queue_wait"]["value"] == 0.5
    out = assess("--period", "2026-Q3", "--country", "zz", "--scope", "centre",
                 "--as-of", AS_OF)
    assert "AST-01" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2026-Q5", "--country", "zz"], "period"),
    (["--country", "zz"], "--period is required"),
    (["--period", "2026-Q3", "--country", "xx"], "no country"),
    (["--period", "2026-Q3", "--country", "zz", "--pack", "/nonexistent"], "missing"),
    (["--period", "2026-Q3", "--country", "zz", "--as-of", "soon"], "ISO"),
    (["--period", "2026-Q3", "--country", "zz", "--lake", "/nonexistent"], "not a lake"),
    (["--reproduce", "999999"], "no assessment run"),
])
def test_bad_input_is_one_clear_error(mini_country, args, message):
    if "--pack" not in args and "--reproduce" not in args:
        args = [*args, "--pack", str(MINI_PACK)]
    with pytest.raises(CommandError, match=message):
        assess(*args)


def test_a_broken_methodology_is_refused_with_its_reason(mini_country, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(MINI_PACK, folder)
    document = yaml.safe_load((folder / "methodology.yaml").read_text())
    document["bands"] = [{"code": "only", "above": 10}]
    (folder / "methodology.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(CommandError, match="last band"):
        assess("--period", "2026-Q3", "--country", "zz", "--pack", str(folder))
