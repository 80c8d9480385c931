"""The optional methodology.yaml of a pack is validated with the rest of the pack: an
invalid one is refused by `load-pack` and `load-pack --check`, nothing written."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from onestop.catalogue.models import Country
from onestop.catalogue.packs import PackInvalid, Problem, read_pack
from onestop.control.models import ViolationKind
from onestop.quality.methodology import VIOLATION_KINDS
from tests.conftest import MINI_PACK


def pack_with(tmp_path: Path, change: Any) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(MINI_PACK, target)
    path = target / "methodology.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def problems(path: Path) -> list[Problem]:
    with pytest.raises(PackInvalid) as caught:
        read_pack(path)
    return caught.value.problems


def test_the_violation_kinds_of_the_parser_are_the_control_body_s() -> None:
    assert set(VIOLATION_KINDS) == set(ViolationKind.values)


def test_a_pack_without_a_methodology_reads(tmp_path: Path) -> None:
    target = tmp_path / "pack"
    shutil.copytree(MINI_PACK, target)
    (target / "methodology.yaml").unlink()
    assert read_pack(target).code == "zz"


def _set(where: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        target = data
        *path, last = where.split(".")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return change


@pytest.mark.parametrize(("change", "expected"), [
    (_set("indicators.0.measure", "happiness"),
     "methodology.yaml: indicators[1]: measure: 'happiness' is not one of timeliness"),
    (_set("indicators.0.weight", "heavy"),
     "methodology.yaml: indicators[1]: weight: expected a number, got 'heavy'"),
    (_set("penalties.kinds", ["deadline_missed", "rudeness"]),
     "methodology.yaml: penalties: kinds: rudeness is not a kind of violation"),
    (_set("penalties.cap", "ten"),
     "methodology.yaml: penalties: cap: expected a number, got 'ten'"),
    (_set("criteria", ["legality", "beauty"]),
     "methodology.yaml: criteria: beauty: not a rating criterion of pack.yaml's feedback"),
    (_set("surprise", 1), "methodology.yaml: unknown key(s): surprise"),
])
def test_an_invalid_methodology_is_named(tmp_path: Path, change: Any, expected: str) -> None:
    found = problems(pack_with(tmp_path, change))
    assert len(found) == 1
    assert str(found[0]).startswith(expected), str(found[0])


def test_bands_out_of_order_are_refused(tmp_path: Path) -> None:
    def swap(data: dict[str, Any]) -> None:
        bands = data["bands"]
        assert len(bands) >= 3
        assert bands[0]["above"] > bands[1]["above"]
        bands[0]["above"], bands[1]["above"] = bands[1]["above"], bands[0]["above"]

    [problem] = problems(pack_with(tmp_path, swap))
    assert (problem.file, problem.entry, problem.field) == ("methodology.yaml", "bands[2]",
                                                             "above")
    assert problem.message == "bands go from the highest down"


def test_broken_yaml_is_named(tmp_path: Path) -> None:
    target = tmp_path / "pack"
    shutil.copytree(MINI_PACK, target)
    (target / "methodology.yaml").write_text("indicators: [unclosed\n", encoding="utf-8")
    [problem] = problems(target)
    assert problem.file == "methodology.yaml"
    assert problem.message.startswith("not valid YAML")


def test_methodology_problems_come_with_the_pack_s_others(tmp_path: Path) -> None:
    target = pack_with(tmp_path, _set("indicators.0.weight", -1))
    services = target / "services.yaml"
    data = yaml.safe_load(services.read_text(encoding="utf-8"))
    data[0]["versions"][0]["channels"] = ["pigeon"]
    services.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    files = sorted(p.file for p in problems(target))
    assert files == ["methodology.yaml", "services.yaml"]


@pytest.mark.django_db
@pytest.mark.parametrize("check", [True, False])
def test_load_pack_refuses_an_invalid_methodology(tmp_path: Path, check: bool) -> None:
    target = pack_with(tmp_path, _set("penalties.kinds", ["rudeness"]))
    err = StringIO()
    with pytest.raises(CommandError, match="1 problem\\(s\\); nothing was written"):
        call_command("load_pack", str(target), *(["--check"] if check else []),
                     stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith("methodology.yaml: penalties: kinds: rudeness is not a "
                                     "kind of violation")
    assert not Country.objects.filter(code="zz").exists()


@pytest.mark.parametrize("code", ["kz", "uz"])
def test_the_shipped_methodologies_are_valid(code: str) -> None:
    from onestop.catalogue.packs import resolve_pack_path

    assert (resolve_pack_path(code) / "methodology.yaml").exists()
    read_pack(resolve_pack_path(code))  # raises PackInvalid otherwise
