"""Loading packs into the database: idempotent, all-or-nothing, one country at a time."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from onestop.catalogue.models import Agency, Country, Service, ServiceStandard
from onestop.catalogue.packs import read_pack, resolve_pack_path
from onestop.catalogue.services import load_pack
from onestop.centres.models import Centre, Counter, PriorityCategory, QueueSettings, ServiceGroup
from onestop.feedback.models import FeedbackRules
from tests.conftest import MINI_PACK

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple[str, str, str]]:
    rows = []
    for model in (Country, Agency, Service, ServiceStandard, Centre, Counter, ServiceGroup,
                  PriorityCategory, QueueSettings, FeedbackRules):
        for obj in model.objects.all():
            fields = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
            rows.append((model.__name__, str(obj.pk), repr(sorted(fields.items()))))
    return sorted(rows)


def test_loading_twice_changes_nothing() -> None:
    first = load_pack(read_pack(MINI_PACK))
    assert first.changed
    before = snapshot()
    second = load_pack(read_pack(MINI_PACK))
    assert not second.changed
    assert all(c["created"] == 0 and c["updated"] == 0 for c in second.counts.values())
    assert snapshot() == before


def test_load_pack_command_reports_and_refuses(tmp_path: Path) -> None:
    out = StringIO()
    call_command("load_pack", str(MINI_PACK), stdout=out)
    assert "pack zz loaded" in out.getvalue()
    before = snapshot()

    broken = tmp_path / "pack"
    shutil.copytree(MINI_PACK, broken)
    data = yaml.safe_load((broken / "services.yaml").read_text(encoding="utf-8"))
    data[0]["versions"].append({**data[0]["versions"][0], "valid_from": "2030-01-01"})
    data[0]["versions"][-1]["channels"] = ["pigeon"]
    data[0]["versions"][0]["max_wait_minutes"] = -5
    data[1]["life_situations"] = ["nonexistent"]
    (broken / "services.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="3 problem\\(s\\); nothing was written"):
        call_command("load_pack", str(broken), stdout=StringIO(), stderr=err)
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 3
    assert snapshot() == before  # nothing written, not even the valid parts


def test_an_updated_pack_adds_a_version_and_keeps_the_old_one(tmp_path: Path) -> None:
    load_pack(read_pack(MINI_PACK))
    newer = tmp_path / "pack"
    shutil.copytree(MINI_PACK, newer)
    data = yaml.safe_load((newer / "services.yaml").read_text(encoding="utf-8"))
    latest = dict(data[1]["versions"][0])
    latest["valid_from"] = "2027-01-01"
    latest["deadline"] = {"value": 5, "unit": "minutes"}
    data[1]["versions"].append(latest)
    (newer / "services.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    report = load_pack(read_pack(newer))
    assert report.counts["standard versions"]["created"] == 1
    assert report.counts["standard versions"]["unchanged"] == 3
    versions = ServiceStandard.objects.filter(service__code="02020001").order_by("valid_from")
    assert [(v.valid_from.isoformat(), v.deadline_value) for v in versions] == [
        ("2024-01-01", 10),
        ("2027-01-01", 5),
    ]


def test_loading_uzbekistan_leaves_kazakhstan_untouched() -> None:
    load_pack(read_pack(resolve_pack_path("kz")))
    kazakhstan = snapshot()
    report = load_pack(read_pack(resolve_pack_path("uz")))
    assert report.counts["services"]["created"] >= 40
    assert Country.objects.count() == 2
    after = [row for row in snapshot() if row in kazakhstan]
    assert after == kazakhstan  # every Kazakh row exactly as it was
    # and loading Kazakhstan again is a no-op with Uzbekistan present
    assert not load_pack(read_pack(resolve_pack_path("kz"))).changed


def served_groups() -> dict[int, list[str]]:
    return {
        c.number: sorted(g.code for g in c.groups.all())
        for c in Counter.objects.filter(centre__code="AST-01", active=True)
    }


def test_the_queue_section_makes_groups_categories_and_counters(tmp_path: Path) -> None:
    load_pack(read_pack(MINI_PACK))
    rules = QueueSettings.objects.get(country__code="zz")
    assert (rules.no_show_after_minutes, rules.max_future_appointments) == (3, 2)
    assert rules.appointment_days_ahead == 14  # not in the mini pack: the default
    groups = {g.code: g for g in ServiceGroup.objects.filter(country__code="zz")}
    assert sorted(groups) == ["A", "B", "R"]
    assert groups["B"].is_default
    assert groups["A"].service_prefixes == ["01"]
    assert groups["R"].purpose == ServiceGroup.Purpose.PICKUP
    ranks = dict(PriorityCategory.objects.values_list("code", "rank"))
    assert ranks == {"disability": 3, "elderly": 2}
    counters = served_groups()
    assert len(counters) == 12
    assert counters[1] == counters[2] == ["A"]
    assert counters[3] == ["A", "R"]
    assert counters[12] == ["A", "B", "R"]

    # fewer counters and another grouping: the counters above close, groups follow the pack
    changed = tmp_path / "pack"
    shutil.copytree(MINI_PACK, changed)
    centres = yaml.safe_load((changed / "centres.yaml").read_text(encoding="utf-8"))
    centres[0]["counters"] = 4
    centres[0]["counter_groups"] = [{"counters": [4], "groups": ["R"]}]
    (changed / "centres.yaml").write_text(yaml.safe_dump(centres, allow_unicode=True), "utf-8")
    report = load_pack(read_pack(changed))
    assert report.counts["counters"]["updated"] == 4 + 8  # 1-4 regrouped, 5-12 closed
    assert served_groups() == {1: ["A", "B", "R"], 2: ["A", "B", "R"], 3: ["A", "B", "R"],
                               4: ["R"]}
    assert Counter.objects.filter(centre__code="AST-01").count() == 12


@pytest.mark.parametrize("code", ["kz", "uz"])
def test_shipped_packs_group_every_service(code: str) -> None:
    load_pack(read_pack(resolve_pack_path(code)))
    groups = ServiceGroup.objects.filter(country__code=code)
    assert groups.filter(is_default=True).count() == 1
    apply_groups = [g for g in groups if g.purpose == ServiceGroup.Purpose.APPLY]
    named = {
        s.code
        for s in Service.objects.filter(country__code=code)
        for g in apply_groups
        if any(s.code.startswith(p) for p in g.service_prefixes)
    }
    # every service of the pack is named by a group, not just caught by the default
    assert named == set(Service.objects.filter(country__code=code).values_list("code", flat=True))
    assert PriorityCategory.objects.filter(country__code=code).count() == 4


@pytest.mark.parametrize("code", ["kz", "uz"])
def test_feedback_rules_come_from_the_pack(code: str) -> None:
    load_pack(read_pack(resolve_pack_path(code)))
    rules = FeedbackRules.objects.get(country__code=code)
    criteria = [c["code"] for c in rules.criteria]
    # Uzbekistan rates four criteria; Kazakhstan publishes one overall score
    assert criteria == (
        ["legality", "quality", "timeliness", "accessibility"] if code == "uz" else ["overall"]
    )
    assert rules.alert_at_or_below == 3
    assert rules.deadlines["provider"] == {
        "value": 5 if code == "kz" else 15, "unit": "working_days"
    }
    assert rules.deadlines["control"] == {"value": 15, "unit": "working_days"}
    assert not rules.anonymous_complaints
    assert {g["code"] for g in rules.grounds} >= {
        "unjustified_refusal", "missed_deadline", "extra_documents", "improper_service",
        "inaction", "unethical_behaviour",
    }
