"""The pure parts of the demo: patterns, national IDs, names, routes through workflows."""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from onestop.applications.workflow import Workflow
from onestop.catalogue.packs import resolve_pack_path
from onestop.demo.forms import pattern_value
from onestop.demo.generator import plan_route
from onestop.demo.people import Population, iin_check_digit, national_id, pinfl_check_digit

PATTERNS = [
    r"^[0-9]{12}$", r"^\+7[0-9]{10}$", r"^\+998[0-9]{9}$", r"^KZ[0-9]{2}[0-9A-Z]{16}$",
    r"^[A-Z]{2}[0-9]{7}$", r"^[0-9]{10,20}$", r"^[0-9:]{9,30}$",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$", r"^[A-HJ-NPR-Z0-9]{17}$", r"^[A-Z]{3}$",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_values_match_their_pattern(pattern: str) -> None:
    rng = random.Random(1)
    for _ in range(200):
        value = pattern_value(pattern, rng)
        assert re.fullmatch(pattern, value), (pattern, value)


def test_iin_has_the_right_shape_and_control_digit() -> None:
    seen = set()
    for serial in range(3000):
        iin = national_id(12, date(1985, 4, 12), serial % 2 == 1, serial)
        assert re.fullmatch(r"\d{12}", iin)
        assert iin[:6] == "850412"
        assert iin[6] in "34"  # born in the 1900s; 3 male, 4 female
        assert iin_check_digit(iin[:11]) == int(iin[11])
        seen.add(iin)
    assert len(seen) == 3000  # distinct serials give distinct IDs


def test_uzbek_personal_number_has_14_digits() -> None:
    pinfl = national_id(14, date(2001, 9, 30), True, 1234)
    assert re.fullmatch(r"\d{14}", pinfl)
    assert pinfl[0] == "6"
    assert pinfl[1:7] == "300901"
    assert pinfl_check_digit(pinfl[:13]) == int(pinfl[13])


def test_a_population_is_the_same_people_in_every_run() -> None:
    def make() -> Population:
        return Population("kz", 5000, id_length=12, language="kk",
                          phone_pattern=r"^\+7[0-9]{10}$", account_share=0.6)

    first, second = make(), make()
    people = [first.person(i) for i in range(5000)]
    assert people[:50] == [second.person(i) for i in range(50)]
    assert len({p.national_id for p in people}) == 5000
    assert all(re.fullmatch(r"\+7\d{10}", p.phone) for p in people)
    accounts = sum(p.has_account for p in people) / len(people)
    assert 0.55 < accounts < 0.65
    assert all(len(p.name.split()) >= 3 for p in people)


def _workflows(country: str) -> dict[str, Workflow]:
    raw = yaml.safe_load(Path(resolve_pack_path(country), "workflows.yaml").read_text())
    return {entry["code"]: Workflow.from_mapping(entry) for entry in raw}


@pytest.mark.parametrize("country", ["kz", "uz"])
def test_routes_through_the_packs_workflows(country: str) -> None:
    for code, workflow in _workflows(country).items():
        route = plan_route(workflow)
        if route.instant:
            assert route.prefix, code
            assert route.prefix[-1].outcome == "issued", code
            continue
        assert route.main[-1].outcome == "issued", code
        state = workflow.initial
        for step in route.main:  # the main path is a valid sequence of actions
            assert step.source == state
            roles = sorted(step.roles - {"citizen"}) or sorted(step.roles)
            assert workflow.decide(state, step.action, roles[0], step.requires).target.code \
                == step.target
            state = step.target
        for position, (ask, answer) in route.stop.items():
            assert ask.clock == "stop"
            assert answer.clock == "resume"
            assert ask.source == answer.target == route.states[position]
        assert route.refuse, code
        assert all(step.outcome == "refused" for step in route.refuse.values())
    instant = plan_route(_workflows(country)["instant"])
    assert instant.instant
