"""The pure workflow engine and the shipped packs' workflows (no database)."""

from __future__ import annotations

import ast
import copy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import onestop
from onestop.accounts.roles import Role
from onestop.applications import workflow as workflow_module
from onestop.applications.workflow import (
    KNOWN_ROLES,
    ClockEffect,
    MissingInput,
    NotPermitted,
    Outcome,
    Workflow,
    WorkflowInvalid,
    read_workflows,
)

PACKS = Path(onestop.__file__).resolve().parent / "packs"
SHIPPED = ("instant", "simple_approval", "interagency_approval", "multistage_permit")
PROPERTY = settings(max_examples=60, deadline=None, database=None)


def pack_languages(pack: str) -> list[str]:
    header = yaml.safe_load((PACKS / pack / "pack.yaml").read_text(encoding="utf-8"))
    return list(header["country"]["languages"])


def shipped(pack: str) -> dict[str, Workflow]:
    entries = yaml.safe_load((PACKS / pack / "workflows.yaml").read_text(encoding="utf-8"))
    workflows, problems = read_workflows(entries, pack_languages(pack)[0])
    assert problems == []
    return workflows


KZ = shipped("kz")
UZ = shipped("uz")
ALL_SHIPPED = [(pack, code) for pack in ("kz", "uz") for code in SHIPPED]


def by_pack(pack: str) -> dict[str, Workflow]:
    return KZ if pack == "kz" else UZ


# --- the shipped workflows ----------------------------------------------------------------


@pytest.mark.parametrize("pack", ["kz", "uz"])
def test_shipped_workflows_load_and_cover_the_services(pack: str) -> None:
    workflows = by_pack(pack)
    assert set(SHIPPED) <= set(workflows)
    services = yaml.safe_load((PACKS / pack / "services.yaml").read_text(encoding="utf-8"))
    named = {service.get("workflow", "simple_approval") for service in services}
    assert named <= set(workflows)
    # every state and action is named in every language of the pack
    languages = set(pack_languages(pack))
    for flow in workflows.values():
        assert set(flow.name) == languages
        for state in flow.states.values():
            assert set(state.name) == languages, (flow.code, state.code)
        for action in flow.actions:
            assert set(action.name) == languages, (flow.code, action.code)
        assert flow.reachable_states() == set(flow.states)


def test_the_two_packs_share_the_shape_of_their_workflows() -> None:
    for code in SHIPPED:
        kz, uz = KZ[code], UZ[code]
        assert {(s.code, s.clock, s.waits_on, s.terminal, s.outcome, s.limit)
                for s in kz.states.values()} == {
            (s.code, s.clock, s.waits_on, s.terminal, s.outcome, s.limit)
            for s in uz.states.values()
        }
        assert [(a.code, a.sources, a.target, a.roles, a.requires) for a in kz.actions] == [
            (a.code, a.sources, a.target, a.roles, a.requires) for a in uz.actions
        ]


def test_known_roles_are_onestops_roles_and_system() -> None:
    assert {str(role) for role in Role} | {"system"} == KNOWN_ROLES


def test_the_engine_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(workflow_module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - {"__future__"} <= set(sys.stdlib_module_names)


# simple_approval, every transition: (state, action, role, provided, target, clock effect)
SIMPLE_TRANSITIONS = [
    ("submitted", "accept", "officer", (), "in_review", ClockEffect.NONE),
    ("in_review", "request_documents", "officer", ("comment", "requested_documents"),
     "awaiting_applicant", ClockEffect.STOP),
    ("awaiting_applicant", "provide_documents", "citizen", ("documents",), "in_review",
     ClockEffect.RESUME),
    ("awaiting_applicant", "provide_documents", "operator", ("documents",), "in_review",
     ClockEffect.RESUME),
    ("in_review", "approve", "officer", ("result_document",), "approved", ClockEffect.NONE),
    ("in_review", "approve", "supervisor", ("result_document",), "approved", ClockEffect.NONE),
    ("in_review", "refuse", "officer", ("ground", "comment"), "refused", ClockEffect.NONE),
    ("in_review", "refuse", "supervisor", ("ground", "comment"), "refused", ClockEffect.NONE),
    ("approved", "return_to_review", "supervisor", ("comment",), "in_review", ClockEffect.NONE),
    ("approved", "issue", "officer", (), "issued", ClockEffect.NONE),
    ("approved", "issue", "operator", (), "issued", ClockEffect.NONE),
    ("approved", "issue", "system", (), "issued", ClockEffect.NONE),
    ("submitted", "withdraw", "citizen", (), "withdrawn", ClockEffect.NONE),
    ("in_review", "withdraw", "citizen", (), "withdrawn", ClockEffect.NONE),
    ("awaiting_applicant", "withdraw", "citizen", (), "withdrawn", ClockEffect.RESUME),
]


@pytest.mark.parametrize("pack", ["kz", "uz"])
def test_every_transition_of_simple_approval(pack: str) -> None:
    flow = by_pack(pack)["simple_approval"]
    assert flow.initial == "submitted"
    for state, action, role, provided, target, clock in SIMPLE_TRANSITIONS:
        transition = flow.decide(state, action, role, provided)
        assert transition.source.code == state
        assert transition.target.code == target, (state, action)
        assert transition.clock is clock, (state, action)
        assert transition.terminal == (target in {"issued", "refused", "withdrawn"})
        assert transition.outcome == {
            "issued": Outcome.ISSUED, "refused": Outcome.REFUSED,
            "withdrawn": Outcome.WITHDRAWN,
        }.get(target)
    # the table is the whole workflow: every (state, action, role) the pack allows is in it
    declared = {
        (source, action.code, role)
        for action in flow.actions for source in action.sources for role in action.roles
    }
    assert declared == {(s, a, r) for s, a, r, *_ in SIMPLE_TRANSITIONS}
    awaiting = flow.states["awaiting_applicant"]
    assert (awaiting.clock, awaiting.waits_on) == ("stopped", "applicant")


def test_actions_for_lists_what_a_role_may_do_now() -> None:
    flow = KZ["simple_approval"]
    assert [a.code for a in flow.actions_for("in_review", "officer")] == [
        "request_documents", "approve", "refuse",
    ]
    assert [a.code for a in flow.actions_for("in_review", "citizen")] == ["withdraw"]
    assert [a.code for a in flow.actions_for("approved", "supervisor")] == ["return_to_review"]
    assert flow.actions_for("issued", "officer") == []
    assert flow.actions_for("in_review", "analyst") == []
    assert flow.actions_for("no_such_state", "officer") == []


def test_instant_is_issued_or_refused_by_the_system_and_cannot_be_withdrawn() -> None:
    flow = UZ["instant"]
    assert flow.decide("submitted", "issue", "system").outcome is Outcome.ISSUED
    assert flow.decide("submitted", "refuse", "system", ["ground"]).outcome is Outcome.REFUSED
    assert flow.actions_for("submitted", "officer") == []
    with pytest.raises(NotPermitted):
        flow.decide("submitted", "withdraw", "citizen")


def test_an_interagency_request_keeps_the_clock_running_with_a_stage_limit() -> None:
    flow = KZ["interagency_approval"]
    sent = flow.decide("in_review", "request_agency", "officer", {"agency", "comment"})
    assert (sent.target.code, sent.clock) == ("awaiting_agency", ClockEffect.NONE)
    assert sent.target.waits_on == "agency"
    assert sent.target.limit == (2, "working_days")
    answered = flow.decide("awaiting_agency", "agency_answer", "system", {"comment"})
    assert answered.target.code == "in_review"
    with pytest.raises(MissingInput, match="agency"):
        flow.decide("in_review", "request_agency", "officer", {"comment"})


def test_the_multistage_permit_requests_documents_and_refuses_at_each_stage() -> None:
    flow = KZ["multistage_permit"]
    assert flow.states["completeness_check"].limit == (2, "working_days")
    asked = {
        stage: flow.decide(stage, "request_documents", "officer",
                           {"comment", "requested_documents"})
        for stage in ("completeness_check", "technical_review")
    }
    assert {t.target.code for t in asked.values()} == {
        "awaiting_applicant_completeness", "awaiting_applicant_technical",
    }
    assert all(t.clock is ClockEffect.STOP for t in asked.values())
    for stage, role in [("completeness_check", "officer"), ("technical_review", "officer"),
                        ("awaiting_approval", "supervisor")]:
        refusal = flow.decide(stage, "refuse", role, {"ground", "comment"})
        assert refusal.outcome is Outcome.REFUSED
    with pytest.raises(NotPermitted, match="officer"):
        flow.decide("awaiting_approval", "approve", "officer", {"result_document"})
    path = [("submitted", "accept", "officer"), ("completeness_check", "confirm_completeness",
            "officer"), ("technical_review", "submit_for_approval", "officer"),
            ("awaiting_approval", "approve", "supervisor"), ("approved", "issue", "operator")]
    state = flow.initial
    for expected, action, role in path:
        assert state == expected
        state = flow.decide(state, action, role, {"comment", "result_document"}).target.code
    assert flow.states[state].outcome is Outcome.ISSUED


# --- refusals: NotPermitted and MissingInput ------------------------------------------------


def test_a_role_not_allowed_is_not_permitted_with_a_message_naming_it() -> None:
    flow = KZ["simple_approval"]
    with pytest.raises(NotPermitted) as refused:
        flow.decide("in_review", "approve", "citizen", {"result_document"})
    message = str(refused.value)
    assert "citizen" in message
    assert "approve" in message
    assert "in_review" in message
    assert "officer" in message  # who may


@pytest.mark.parametrize(
    ("state", "action", "says"),
    [
        ("submitted", "approve", "possible in this state: accept, withdraw"),
        ("issued", "withdraw", "final"),
        ("in_review", "teleport", "no such action"),
        ("limbo", "accept", "no state 'limbo'"),
    ],
)
def test_an_action_not_offered_in_the_state_is_not_permitted(
    state: str, action: str, says: str
) -> None:
    with pytest.raises(NotPermitted, match=says):
        KZ["simple_approval"].decide(state, action, "officer", {"result_document"})


def test_missing_inputs_are_named() -> None:
    flow = KZ["simple_approval"]
    with pytest.raises(MissingInput) as missing:
        flow.decide("in_review", "refuse", "officer", {"comment"})
    assert missing.value.missing == ("ground",)
    assert "ground" in str(missing.value)
    with pytest.raises(MissingInput) as both:
        flow.decide("in_review", "request_documents", "officer")
    assert both.value.missing == ("comment", "requested_documents")
    assert "comment" in str(both.value)
    assert "requested_documents" in str(both.value)


def test_the_role_is_checked_before_the_inputs() -> None:
    with pytest.raises(NotPermitted):
        KZ["simple_approval"].decide("in_review", "refuse", "citizen")


# --- validation: one hand-built broken definition per problem class -------------------------


def valid() -> dict[str, Any]:
    def named(code: str, **rest: Any) -> dict[str, Any]:
        return {"code": code, "name": {"en": code.replace("_", " ")}, **rest}

    return {
        "code": "test_flow",
        "name": {"en": "Test flow"},
        "initial": "submitted",
        "states": [
            named("submitted"),
            named("in_review"),
            named("waiting", clock="stopped", waits_on="applicant"),
            named("issued", terminal=True, outcome="issued"),
            named("refused", terminal=True, outcome="refused"),
        ],
        "actions": [
            named("accept", **{"from": ["submitted"], "to": "in_review", "roles": ["officer"]}),
            named("ask", **{"from": ["in_review"], "to": "waiting", "roles": ["officer"],
                            "requires": ["comment"]}),
            named("answer", **{"from": ["waiting"], "to": "in_review", "roles": ["citizen"]}),
            named("issue", **{"from": ["in_review"], "to": "issued", "roles": ["officer"]}),
            named("refuse", **{"from": ["in_review"], "to": "refused", "roles": ["officer"],
                               "requires": ["ground"]}),
        ],
    }


def state(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in data["states"] if s["code"] == code)


def action(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(a for a in data["actions"] if a["code"] == code)


def add_state(data: dict[str, Any], code: str) -> None:
    data["states"].append({"code": code, "name": {"en": code}})


def add_action(data: dict[str, Any], code: str, sources: list[str], target: str,
               roles: list[str] | None = None) -> None:
    data["actions"].append({"code": code, "name": {"en": code}, "from": sources, "to": target,
                            "roles": roles or ["officer"]})


def unknown_source(d: dict[str, Any]) -> None:
    add_action(d, "skip", ["nowhere"], "issued")


def unknown_target(d: dict[str, Any]) -> None:
    add_action(d, "jump", ["submitted"], "nowhere")


def unknown_role(d: dict[str, Any]) -> None:
    action(d, "accept")["roles"] = ["officer", "clerk"]


def unreachable(d: dict[str, Any]) -> None:
    add_state(d, "orphan")
    add_action(d, "leave", ["orphan"], "issued")


def dead_end(d: dict[str, Any]) -> None:
    add_state(d, "limbo")
    add_action(d, "park", ["in_review"], "limbo")


def no_terminal(d: dict[str, Any]) -> None:
    d["states"] = [s for s in d["states"] if not s.get("terminal")]
    d["actions"] = [a for a in d["actions"] if a["code"] not in {"issue", "refuse"}]


def loop_without_exit(d: dict[str, Any]) -> None:
    add_state(d, "spinning")
    add_action(d, "spin_up", ["in_review"], "spinning")
    add_action(d, "spin", ["spinning"], "spinning")


def terminal_with_actions(d: dict[str, Any]) -> None:
    add_action(d, "reopen", ["issued"], "in_review")


def terminal_without_outcome(d: dict[str, Any]) -> None:
    del state(d, "issued")["outcome"]


def outcome_on_a_running_state(d: dict[str, Any]) -> None:
    state(d, "in_review")["outcome"] = "issued"


def duplicate_action(d: dict[str, Any]) -> None:
    add_action(d, "ask", ["in_review"], "waiting")
    d["actions"][-1]["requires"] = ["comment"]


def bad_requires(d: dict[str, Any]) -> None:
    action(d, "accept")["requires"] = ["signature"]


def bad_clock(d: dict[str, Any]) -> None:
    state(d, "in_review")["clock"] = "paused"


def bad_waits_on(d: dict[str, Any]) -> None:
    state(d, "in_review")["waits_on"] = "court"


def stopped_not_waiting_on_the_applicant(d: dict[str, Any]) -> None:
    state(d, "waiting")["waits_on"] = "agency"


def refusal_without_ground(d: dict[str, Any]) -> None:
    action(d, "refuse")["requires"] = ["comment"]


def bad_limit_unit(d: dict[str, Any]) -> None:
    state(d, "in_review")["limit"] = {"value": 2, "unit": "weeks"}


def bad_limit_value(d: dict[str, Any]) -> None:
    state(d, "in_review")["limit"] = {"value": 0, "unit": "hours"}


def unknown_field(d: dict[str, Any]) -> None:
    action(d, "issue")["require"] = ["result_document"]


def bad_initial(d: dict[str, Any]) -> None:
    d["initial"] = "received"


def duplicate_state(d: dict[str, Any]) -> None:
    add_state(d, "in_review")


PROBLEM_CLASSES = [
    (unknown_source, "action skip", "no state 'nowhere'"),
    (unknown_target, "action jump", "no state 'nowhere'"),
    (unknown_role, "action accept", "unknown role 'clerk'"),
    (unreachable, "state orphan", "unreachable"),
    (dead_end, "state limbo", "dead end"),
    (no_terminal, "test_flow", "no terminal state is reachable"),
    (loop_without_exit, "state spinning", "no terminal state can be reached"),
    (terminal_with_actions, "state issued", "terminal, yet action 'reopen' leaves it"),
    (terminal_without_outcome, "state issued", "needs an outcome"),
    (outcome_on_a_running_state, "state in_review", "only a terminal state has an outcome"),
    (duplicate_action, "action ask", "offered twice from state 'in_review'"),
    (bad_requires, "action accept", "unknown input 'signature'"),
    (bad_clock, "state in_review", "clock: 'paused'"),
    (bad_waits_on, "state in_review", "waits_on: 'court'"),
    (stopped_not_waiting_on_the_applicant, "state waiting", "only while waiting on the applicant"),
    (refusal_without_ground, "action refuse", "must require a ground"),
    (bad_limit_unit, "state in_review", "unit 'weeks'"),
    (bad_limit_value, "state in_review", "value 0"),
    (unknown_field, "action issue", "unknown field 'require'"),
    (bad_initial, "initial", "no state 'received'"),
    (duplicate_state, "state in_review", "duplicate state code"),
]


def test_the_hand_built_definition_is_valid() -> None:
    flow = Workflow.from_mapping(valid(), KNOWN_ROLES)
    assert flow.reachable_states() == {"submitted", "in_review", "waiting", "issued", "refused"}


@pytest.mark.parametrize(
    ("breaks", "where", "fault"), PROBLEM_CLASSES, ids=[p[0].__name__ for p in PROBLEM_CLASSES]
)
def test_each_problem_class_is_caught(breaks: Any, where: str, fault: str) -> None:
    data = valid()
    breaks(data)
    with pytest.raises(WorkflowInvalid) as invalid:
        Workflow.from_mapping(data, KNOWN_ROLES)
    assert len(invalid.value.problems) == 1, invalid.value.problems
    problem = invalid.value.problems[0]
    assert problem.startswith("workflow test_flow: ")
    assert where in problem
    assert fault in problem


def test_three_problems_give_three_messages() -> None:
    data = valid()
    unknown_role(data)
    bad_clock(data)
    refusal_without_ground(data)
    with pytest.raises(WorkflowInvalid) as invalid:
        Workflow.from_mapping(data, KNOWN_ROLES)
    problems = invalid.value.problems
    assert len(problems) == 3, problems
    assert any("action accept" in p and "'clerk'" in p for p in problems)
    assert any("state in_review" in p and "'paused'" in p for p in problems)
    assert any("action refuse" in p and "ground" in p for p in problems)


def test_known_roles_are_the_callers() -> None:
    with pytest.raises(WorkflowInvalid, match="unknown role 'officer'"):
        Workflow.from_mapping(valid(), {"citizen"})


def test_read_workflows_reports_every_entry_for_the_pack_reader() -> None:
    good, broken, nameless = valid(), valid(), valid()
    broken["code"] = "broken_flow"
    bad_clock(broken)
    nameless["code"] = "nameless_flow"
    state(nameless, "in_review")["name"] = {"ru": "На рассмотрении"}
    workflows, problems = read_workflows([good, broken, nameless, valid(), "junk"], "en")
    assert list(workflows) == ["test_flow"]
    assert problems == [
        ("workflow broken_flow", "state in_review",
         "clock: 'paused' is not one of running, stopped"),
        ("workflow nameless_flow", "state in_review", "name: the state language 'en' is missing"),
        ("workflow test_flow", "code", "duplicate code"),
        ("workflow #5", "", "a workflow must be a mapping"),
    ]
    not_a_list: Any = {"not": "a list"}
    assert read_workflows(not_a_list, "en") == ({}, [("", "", "must be a list of workflows")])


def test_the_shipped_definitions_refuse_a_broken_copy() -> None:
    entries = yaml.safe_load((PACKS / "kz" / "workflows.yaml").read_text(encoding="utf-8"))
    broken = copy.deepcopy(entries)
    simple = next(e for e in broken if e["code"] == "simple_approval")
    simple["actions"] = [a for a in simple["actions"] if a["code"] != "issue"]
    workflows, problems = read_workflows(broken, "kk")
    assert problems == [
        ("workflow simple_approval", "state issued",
         "unreachable from the initial state 'submitted'"),
    ]
    assert "simple_approval" not in workflows
    assert "instant" in workflows


# --- random walks over the shipped workflows ------------------------------------------------


@pytest.mark.parametrize(("pack", "code"), ALL_SHIPPED)
@PROPERTY
@given(data=st.data())
def test_random_walks_stay_in_known_states_and_pair_stops_with_resumes(
    pack: str, code: str, data: st.DataObject
) -> None:
    flow = by_pack(pack)[code]
    current = flow.initial
    stopped = flow.states[current].stopped
    assert not stopped
    for _ in range(40):
        here = flow.states[current]
        allowed = [
            (role, a) for role in sorted(KNOWN_ROLES) for a in flow.actions_for(current, role)
        ]
        if here.terminal:
            assert allowed == []
            for some in {a.code for a in flow.actions}:
                with pytest.raises(NotPermitted):
                    flow.decide(current, some, "admin")
            break
        assert allowed, f"{current} is a dead end"
        role, chosen = data.draw(st.sampled_from(allowed))
        transition = flow.decide(current, chosen.code, role, chosen.requires)
        assert transition.target.code in flow.states
        assert transition.source.code == current
        if transition.clock is ClockEffect.STOP:
            assert not stopped, "two stops without a resume"
            stopped = True
        elif transition.clock is ClockEffect.RESUME:
            assert stopped, "a resume without a stop"
            stopped = False
        assert stopped == transition.target.stopped
        assert transition.terminal == transition.target.terminal
        current = transition.target.code
