"""Reading and validating packs: every problem reported, with file, entry and field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from onestop.catalogue.packs import (
    PackInvalid,
    applicant_id_properties,
    read_pack,
    resolve_pack_path,
    shipped_pack_codes,
)
from tests.conftest import MINI_PACK


def copy_pack(tmp_path: Path, source: Path = MINI_PACK) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(source, target)
    return target


def edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_mini_pack_reads() -> None:
    pack = read_pack(MINI_PACK)
    assert pack.code == "zz"
    assert [s["code"] for s in pack.services] == ["01010001", "02020001"]
    assert pack.languages == ["kk", "ru", "en"]


def test_three_broken_entries_give_three_messages(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)

    def break_services(services: list[dict]) -> None:  # type: ignore[type-arg]
        services[0]["versions"][0]["deadline"]["unit"] = "weeks"
        services[1]["provider"] = "NOBODY"

    def break_centres(centres: list[dict]) -> None:  # type: ignore[type-arg]
        centres[0]["counters"] = 0

    edit(pack / "services.yaml", break_services)
    edit(pack / "centres.yaml", break_centres)
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 3, messages
    assert messages[0].startswith("services.yaml: service 01010001: versions[0].deadline.unit:")
    assert "'weeks' is not one of" in messages[0]
    assert any(
        m.startswith("centres.yaml: centre AST-01: counters:") and "minimum of 1" in m
        for m in messages
    )
    assert "services.yaml: service 02020001: provider: no agency 'NOBODY'" in messages


def test_a_text_without_the_state_language_is_refused(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "agencies.yaml", lambda agencies: agencies[0]["name"].pop("kk"))
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    assert [str(p) for p in caught.value.problems] == [
        "agencies.yaml: agency MJ: name: 'kk' is a required property"
    ]


def test_unquoted_service_code_and_impossible_date_are_reported(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    text = (pack / "services.yaml").read_text(encoding="utf-8")
    text = text.replace('code: "02020001"', "code: 2020001").replace(
        "valid_from: 2026-03-10", "valid_from: 2026-02-30"
    )
    (pack / "services.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "services.yaml: service #2: code: 2020001 is not of type 'string'",
        "services.yaml: service 01010001: versions[1].valid_from: '2026-02-30' is not a real date",
    ]


def test_bad_yaml_and_missing_files_are_named(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    (pack / "centres.yaml").unlink()
    (pack / "agencies.yaml").write_text("- code: [unclosed\n", encoding="utf-8")
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    messages = sorted(str(p) for p in caught.value.problems)
    assert messages[0].startswith("agencies.yaml: not valid YAML")
    assert messages[1] == "centres.yaml: file is missing"


def test_agency_parent_cycle_is_refused(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "agencies.yaml", lambda agencies: agencies[0].update(parent="MJ-ZAGS"))
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    assert any("agency parents form a cycle" in str(p) for p in caught.value.problems)


def test_an_invalid_eform_schema_is_refused(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(
        pack / "services.yaml",
        lambda services: services[1]["versions"][0].update(eform={"type": "no-such-type"}),
    )
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    (problem,) = caught.value.problems
    assert str(problem).startswith(
        "services.yaml: service 02020001: versions[0].eform: not a valid JSON Schema"
    )


def test_the_national_ids_name_is_given_in_every_language_of_the_pack(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", lambda h: h["country"].update(national_id_name={"en": "TIN"}))
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    assert [str(p) for p in caught.value.problems] == [
        "pack.yaml: country: national_id_name: 'kk' is a required property"]


def test_the_applicants_phone_and_email_fields_are_declared_once_as_strings(
    tmp_path: Path,
) -> None:
    pack = copy_pack(tmp_path)

    def mark(services: Any) -> None:
        services[0]["versions"][0]["eform"]["properties"].update(
            phone={"type": "string", "x-applicant-phone": True},
            mobile={"type": "string", "x-applicant-phone": True},
            email={"type": "string", "format": "email", "x-applicant-email": True},
        )
        services[0]["versions"][1]["eform"]["properties"].update(
            phone={"type": "integer", "x-applicant-phone": True},
            email={"type": "string", "x-applicant-email": 1},
        )

    edit(pack / "services.yaml", mark)
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    assert [str(p) for p in caught.value.problems] == [
        "services.yaml: service 01010001: versions[0].eform: only one property may be the "
        "applicant's phone (x-applicant-phone)",
        "services.yaml: service 01010001: versions[1].eform: properties.phone: the "
        "applicant's phone is a string (type: string)",
        "services.yaml: service 01010001: versions[1].eform: properties.email."
        "x-applicant-email: only `true` is meaningful",
    ]


def test_the_applicants_national_id_field_is_declared_once_as_a_string(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)

    def mark(services: Any) -> None:
        services[0]["versions"][0]["eform"]["properties"].update(
            iin={"type": "string", "x-applicant-id": True},
            other_iin={"type": "string", "x-applicant-id": True},
        )
        services[0]["versions"][1]["eform"]["properties"].update(
            iin={"type": "integer", "x-applicant-id": True},
            child_name={"type": "string", "x-applicant-id": "yes"},
        )

    edit(pack / "services.yaml", mark)
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    assert [str(p) for p in caught.value.problems] == [
        "services.yaml: service 01010001: versions[0].eform: only one property may be the "
        "applicant's national ID (x-applicant-id)",
        "services.yaml: service 01010001: versions[1].eform: properties.child_name."
        "x-applicant-id: only `true` is meaningful",
        "services.yaml: service 01010001: versions[1].eform: properties.iin: the applicant's "
        "national ID is a string (type: string)",
    ]


@pytest.mark.parametrize("code", ["kz", "uz"])
def test_the_shipped_packs_mark_the_applicants_own_national_id(code: str) -> None:
    """Every e-form field titled as the applicant's own number is marked, and no other."""
    own = {"kz": {"Applicant's IIN"},
           "uz": {"Personal identification number (PINFL)", "Buyer's PINFL"}}[code]
    marked = titled = 0
    for service in read_pack(resolve_pack_path(code)).services:
        for version in service["versions"]:
            properties = version["eform"].get("properties", {})
            names = applicant_id_properties(version["eform"])
            marked += len(names)
            titled += sum(spec.get("title") in own for spec in properties.values())
            assert all(properties[name].get("title") in own for name in names), service["code"]
    assert marked == titled > 40


def test_a_folder_that_is_not_a_pack(tmp_path: Path) -> None:
    with pytest.raises(PackInvalid) as caught:
        read_pack(tmp_path / "nothing-here")
    assert "no such pack folder" in str(caught.value.problems[0])


@pytest.mark.parametrize("code", ["kz", "uz"])
def test_shipped_packs_are_valid_and_complete(code: str) -> None:
    assert code in shipped_pack_codes()
    pack = read_pack(resolve_pack_path(code))
    assert len(pack.agencies) >= 12
    assert len(pack.services) >= 40
    assert len(pack.life_situations) >= 8
    assert len(pack.centres) >= 20
    used_situations = {s for service in pack.services for s in service["life_situations"]}
    assert len(used_situations) >= 8
    assert sum(1 for s in pack.services if len(s["versions"]) > 1) >= 4


def test_queue_problems_are_named(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)

    def break_queue(header: dict) -> None:  # type: ignore[type-arg]
        header["queue"]["service_groups"][0]["default"] = True  # now two defaults
        header["queue"]["priority_categories"][1]["code"] = "disability"

    def break_counters(centres: list[dict]) -> None:  # type: ignore[type-arg]
        centres[0]["counter_groups"] = [{"counters": [2, 13], "groups": ["A", "Z"]}]
        centres[0]["breaks"] = {"monday": ["14:00-13:00"]}

    edit(pack / "pack.yaml", break_queue)
    edit(pack / "centres.yaml", break_counters)
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    assert sorted(str(p) for p in caught.value.problems) == [
        "centres.yaml: centre AST-01: breaks.monday: '14:00-13:00' ends before it starts",
        "centres.yaml: centre AST-01: counter_groups[0].counters: "
        "counter 13 is beyond the centre's 12 counters",
        "centres.yaml: centre AST-01: counter_groups[0].groups: "
        "no service group 'Z' in pack.yaml queue.service_groups",
        "pack.yaml: queue: priority_categories: duplicate code",
        "pack.yaml: queue: service_groups: exactly one group must be the default (default: true)",
    ]


def test_a_malformed_queue_section_is_refused(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack / "pack.yaml", lambda h: h["queue"]["service_groups"][0].update(code="a1"))
    with pytest.raises(PackInvalid) as caught:
        read_pack(pack)
    (problem,) = caught.value.problems
    assert str(problem).startswith("pack.yaml: queue: service_groups[0].code:")
