"""The pure methodology: reading a definition, scoring, penalties, bands, the minimum
number of cases and ranking with ties."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from onestop.quality.methodology import MethodologyError, assess, parse, score_unit

PACKS = Path(__file__).parents[2] / "src" / "onestop" / "packs"
MINI = Path(__file__).parent.parent / "catalogue" / "data" / "mini"


def definition(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": "t-1",
        "criteria": ["legality"],
        "min_cases": 3,
        "indicators": [
            {"code": "timeliness", "weight": 60},
            {"code": "digital_take_up", "weight": 40},
        ],
        "bands": [
            {"code": "complies", "above": 90},
            {"code": "mostly_complies", "above": 80},
            {"code": "does_not_comply"},
        ],
    }
    base.update(changes)
    return base


def counts(finished: int, late: int, submitted: int, digital: int, **extra: float
           ) -> dict[str, float]:
    return {"finished": finished, "late": late, "submitted": submitted, "digital": digital,
            **extra}


@pytest.mark.parametrize("path", [PACKS / "kz", PACKS / "uz", MINI])
def test_shipped_methodologies_are_valid_and_labelled_examples(path):
    document = yaml.safe_load((path / "methodology.yaml").read_text())
    methodology = parse(document)
    assert methodology.example is True
    assert "example" in methodology.version
    # the example weights of DOMAIN.md: 30 + 25 + 15 + 10 + 10 + 10
    assert methodology.total_weight == 100
    assert methodology.min_cases == 30


def test_score_is_the_weighted_sum_and_the_band_follows():
    m = parse(definition())
    # timeliness 1 - 1/10 = 0.9 -> 54 points; digital 8/10 = 0.8 -> 32 points
    unit = score_unit(m, "1", counts(10, 1, 10, 8))
    assert unit.score == 86.0
    assert unit.band == "mostly_complies"
    # above 90 complies; 90 itself (60 + 40 x 0.75) only mostly complies
    top = score_unit(m, "1", counts(10, 0, 10, 9))  # 60 + 36
    assert (top.score, top.band) == (96.0, "complies")
    ninety = score_unit(m, "1", counts(10, 0, 4, 3))
    assert (ninety.score, ninety.band) == (90.0, "mostly_complies")
    low = score_unit(m, "1", counts(10, 0, 4, 1))  # 60 + 40 x 0.25 = 70
    assert (low.score, low.band) == (70.0, "does_not_comply")
    boundary = score_unit(parse(definition(indicators=[{"code": "timeliness", "weight": 100}])),
                          "1", counts(10, 1, 0, 0))  # exactly 90
    assert (boundary.score, boundary.band) == (90.0, "mostly_complies")


def test_missing_indicators_are_rescaled_to_the_total_weight():
    m = parse(definition())
    # no submissions: digital take-up has no value; timeliness 0.9 alone -> 90 of 100
    unit = score_unit(m, "1", counts(10, 1, 0, 0))
    assert unit.values["digital_take_up"].value is None
    assert unit.score == 90.0
    # nothing to measure: no score, no band, not ranked
    empty = score_unit(m, "1", {})
    assert (empty.score, empty.band, empty.ranked) == (None, "", False)


def test_penalty_per_violation_per_thousand_applications_is_capped():
    m = parse(definition(penalties={"points_per_violation_per_1000": 2, "cap": 5}))
    full = counts(10, 0, 1000, 1000)
    # 1 violation per 1,000 applications x 2 points = 2
    assert score_unit(m, "1", {**full, "penalised_violations": 1}).score == 98.0
    # 10 violations -> 20 points, capped at 5
    capped = score_unit(m, "1", {**full, "penalised_violations": 10})
    assert (capped.penalty, capped.score) == (5.0, 95.0)


def test_below_the_minimum_sample_a_unit_is_shown_but_not_ranked():
    m = parse(definition())
    results = assess(m, {
        "1": counts(2, 0, 2, 2),  # a perfect 100 on 2 cases: below min_cases 3
        "2": counts(10, 1, 10, 8),  # 86
        "3": counts(10, 0, 10, 5),  # 80
    })
    assert [(r.unit, r.rank, r.ranked) for r in results] == [
        ("2", 1, True), ("3", 2, True), ("1", None, False),
    ]
    assert results[2].score == 100.0  # shown, with its score and n
    assert results[2].n == 2


def test_ties_share_a_rank_and_are_listed_by_unit():
    m = parse(definition())
    same = counts(10, 1, 10, 8)  # 86
    results = assess(m, {"12": same, "3": same, "7": counts(10, 0, 10, 10), "5": same,
                         "9": counts(10, 0, 10, 5)})
    assert [(r.unit, r.rank) for r in results] == [
        ("7", 1), ("3", 2), ("5", 2), ("12", 2), ("9", 5),
    ]
    # the same input in any order ranks the same way
    shuffled = assess(m, dict(reversed(list({"12": same, "3": same, "7": counts(10, 0, 10, 10),
                                             "5": same, "9": counts(10, 0, 10, 5)}.items()))))
    assert [(r.unit, r.rank) for r in shuffled] == [(r.unit, r.rank) for r in results]


def test_ties_are_judged_on_the_rounded_score():
    m = parse(definition(indicators=[{"code": "timeliness", "weight": 100}], precision=0))
    # 1 - 1/3 = 66.67 and 1 - 333/1000 = 66.7 both round to 67: a shared rank;
    # 1 - 34/100 = 66 ranks third
    results = assess(m, {"1": counts(3, 1, 0, 0), "2": counts(1000, 333, 0, 0),
                         "3": counts(100, 34, 0, 0)})
    assert [(r.unit, r.score, r.rank) for r in results] == [
        ("1", 67.0, 1), ("2", 67.0, 1), ("3", 66.0, 3),
    ]


def test_changing_a_weight_changes_the_scores():
    before = parse(definition())
    changed = definition(version="t-2")
    changed["indicators"] = copy.deepcopy(changed["indicators"])
    changed["indicators"][0]["weight"] = 20  # timeliness 20, digital 40: total 60
    after = parse(changed)
    unit = counts(10, 1, 10, 5)
    assert score_unit(before, "1", unit).score == 74.0  # 60 x 0.9 + 40 x 0.5
    # (20 x 0.9 + 40 x 0.5) / 60 x 100 = 63.33
    assert score_unit(after, "1", unit).score == 63.33
    assert before.sha256 != after.sha256


def test_satisfaction_and_complaint_handling_and_cost():
    m = parse(definition(
        criteria=["legality", "timeliness"],
        indicators=[{"code": "satisfaction", "weight": 50},
                    {"code": "complaint_handling", "weight": 50},
                    {"code": "cost_per_transaction", "weight": 0}],
        channel_costs={"centre": 2.5, "portal": 0.1},
    ))
    unit = score_unit(m, "1", {
        "ratings": 4, "rated_legality": 4, "satisfied_legality": 3, "score_sum_legality": 16,
        "rated_timeliness": 2, "satisfied_timeliness": 1, "score_sum_timeliness": 7,
        "complaints": 4, "decided": 2, "answered_in_time": 2, "upheld": 1,
        "channel_centre": 1, "channel_portal": 3, "finished": 5,
    })
    # satisfaction: mean of 3/4 and 1/2 = 0.625; mean score 23 / 6
    assert unit.values["satisfaction"].value == pytest.approx(0.625)
    assert unit.values["satisfaction"].detail["mean"] == pytest.approx(23 / 6)
    # complaint handling: 2/4 answered in time x (1 - 1/2 upheld) = 0.25
    assert unit.values["complaint_handling"].value == pytest.approx(0.25)
    # cost: (2.5 + 3 x 0.1) / 4 = 0.7
    assert unit.values["cost_per_transaction"].value == pytest.approx(0.7)
    assert unit.score == 43.75  # 50 x 0.625 + 50 x 0.25


@pytest.mark.parametrize(("change", "message"), [
    ({"version": "has space"}, "version"),
    ({"indicators": []}, "indicators"),
    ({"indicators": [{"code": "timeliness", "weight": -1}]}, "at least 0"),
    ({"indicators": [{"code": "speed", "weight": 10}]}, "not one of"),
    ({"indicators": [{"code": "timeliness", "weight": 10},
                     {"code": "timeliness", "weight": 10}]}, "twice"),
    ({"indicators": [{"code": "cost_per_transaction", "weight": 10}]}, "reported, not scored"),
    ({"indicators": [{"code": "timeliness", "weight": 0}]}, "weight above 0"),
    ({"bands": [{"code": "a", "above": 80}, {"code": "b", "above": 90}, {"code": "c"}]},
     "highest down"),
    ({"bands": [{"code": "a", "above": 80}, {"code": "b", "above": 10}]}, "last band"),
    ({"min_cases": -1}, "min_cases"),
    ({"cases": "everything"}, "cases"),
    ({"weights": {}}, "unknown key"),
    ({"criteria": []}, None),
])
def test_bad_definitions_are_refused_with_a_reason(change, message):
    document = definition(**change)
    if message is None:  # no criteria is fine without a satisfaction indicator
        parse(document)
        return
    with pytest.raises(MethodologyError, match=message):
        parse(document)
