"""Workflows as data: the pure engine (no Django, stdlib only).

A country pack declares each workflow in `workflows.yaml` (format in docs/packs.md):
its states (which stop the deadline clock, which wait on another agency, which are
final and with what outcome, optional per-stage time limits) and its actions (from which
states, to which state, for which roles, with which inputs). `Workflow.from_mapping`
validates a definition and refuses it with every problem listed; `Workflow.decide`
answers "may this role take this action now, and what follows".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

#: onestop's roles (onestop.accounts.roles.Role) plus "system", the automatic steps:
#: instant services, proactive starts, deadlines.
KNOWN_ROLES = frozenset(
    {"citizen", "operator", "officer", "supervisor", "controller", "analyst", "admin", "system"}
)
#: What an action may require its caller to provide.
INPUTS = frozenset(
    {"comment", "ground", "result_document", "documents", "agency", "requested_documents"}
)
RUNNING = "running"
STOPPED = "stopped"
CLOCKS = (RUNNING, STOPPED)
WAITS_ON = ("applicant", "agency")
LIMIT_UNITS = ("working_days", "hours", "minutes")

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_WORKFLOW_KEYS = frozenset({"code", "name", "description", "initial", "states", "actions"})
_STATE_KEYS = frozenset({"code", "name", "clock", "waits_on", "terminal", "outcome", "limit"})
_ACTION_KEYS = frozenset({"code", "name", "from", "to", "roles", "requires"})


class ClockEffect(StrEnum):
    NONE = "none"
    STOP = "stop"      # entering a stopped state from a running one: a pause begins
    RESUME = "resume"  # leaving a stopped state for a running one: the pause ends


class Outcome(StrEnum):
    ISSUED = "issued"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


_OUTCOMES = tuple(outcome.value for outcome in Outcome)


@dataclass(frozen=True)
class State:
    code: str
    name: dict[str, str]
    clock: str = RUNNING              # "running" | "stopped" (waiting on the applicant)
    waits_on: str | None = None       # None | "applicant" | "agency" (clock keeps running)
    terminal: bool = False
    outcome: Outcome | None = None
    limit: tuple[int, str] | None = None  # per-stage time limit: (value, unit)

    @property
    def stopped(self) -> bool:
        return self.clock == STOPPED


@dataclass(frozen=True)
class Action:
    code: str
    name: dict[str, str]
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    requires: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Transition:
    action: Action
    source: State
    target: State
    clock: ClockEffect
    terminal: bool
    outcome: Outcome | None


class WorkflowInvalid(Exception):
    """A definition that cannot be used; `problems` lists every fault, one line each.

    `details` holds the same faults as (entry, field, message) for the pack reader.
    """

    def __init__(self, details: list[tuple[str, str, str]]) -> None:
        self.details = details
        self.problems = [": ".join(part for part in item if part) for item in details]
        super().__init__("; ".join(self.problems))


class NotPermitted(Exception):
    """This role may not take this action in this state (the message says why: a 403).

    `kind` says which refusal it is, for a message in the reader's language: "no_state"
    (the workflow has no `state`), "final" (nothing is taken in a terminal state),
    "elsewhere" (the action exists but not in this state; `options` are the ones that
    do), "no_action" (the workflow has no such action), "role" (not this role; `options`
    are the roles that may)."""

    def __init__(self, message: str, *, kind: str = "", state: str = "", action: str = "",
                 role: str = "", options: tuple[str, ...] = ()) -> None:
        self.kind, self.state, self.action, self.role = kind, state, action, role
        self.options = options
        super().__init__(message)


class MissingInput(Exception):
    """The action needs inputs that were not given (the message names them: a 422)."""

    def __init__(self, missing: Collection[str], message: str) -> None:
        self.missing = tuple(sorted(missing))
        super().__init__(message)


def clock_effect(source: State, target: State) -> ClockEffect:
    if not source.stopped and target.stopped:
        return ClockEffect.STOP
    if source.stopped and not target.stopped:
        return ClockEffect.RESUME
    return ClockEffect.NONE


@dataclass(frozen=True)
class Workflow:
    code: str
    name: dict[str, str]
    initial: str
    states: Mapping[str, State]
    actions: tuple[Action, ...]
    _from: Mapping[str, tuple[Action, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_source: dict[str, list[Action]] = {code: [] for code in self.states}
        for action in self.actions:
            for source in action.sources:
                by_source.setdefault(source, []).append(action)
        object.__setattr__(
            self, "_from", MappingProxyType({k: tuple(v) for k, v in by_source.items()})
        )

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        known_roles: Collection[str] = KNOWN_ROLES,
        *,
        state_language: str | None = None,
    ) -> Workflow:
        """Validate a definition (one entry of workflows.yaml) and build the workflow.

        Raises WorkflowInvalid listing every problem. With `state_language`, every name
        must also be given in that language.
        """
        workflow, faults = _build(data, frozenset(known_roles), state_language)
        if faults or workflow is None:
            label = _label(data)
            raise WorkflowInvalid([(label, where, message) for where, message in faults])
        return workflow

    # --- questions --------------------------------------------------------------------

    def actions_from(self, state: str) -> tuple[Action, ...]:
        """Every action that leaves `state`, whoever may take it."""
        return self._from.get(state, ())

    def actions_for(self, state: str, role: str) -> list[Action]:
        """What this role may do now, in the order the pack declares."""
        return [action for action in self.actions_from(state) if role in action.roles]

    def decide(
        self, state: str, action: str, role: str, provided: Collection[str] = ()
    ) -> Transition:
        """The transition `role` makes by taking `action` in `state`.

        Raises NotPermitted when the state has no such action or the role may not take
        it, and MissingInput when a required input is not among `provided`.
        """
        current = self.states.get(state)
        if current is None:
            raise NotPermitted(f"workflow {self.code} has no state {state!r}",
                               kind="no_state", state=state, action=action, role=role)
        chosen = next((a for a in self.actions_from(state) if a.code == action), None)
        if chosen is None:
            possible: tuple[str, ...] = ()
            if current.terminal:
                kind, reason = "final", f"state {state!r} is final: no action can be taken in it"
            elif any(a.code == action for a in self.actions):
                possible = tuple(sorted({a.code for a in self.actions_from(state)}))
                kind, reason = "elsewhere", f"possible in this state: {', '.join(possible)}"
            else:
                kind, reason = "no_action", f"workflow {self.code} has no such action"
            raise NotPermitted(
                f"action {action!r} cannot be taken in state {state!r}: {reason}",
                kind=kind, state=state, action=action, role=role, options=possible,
            )
        if role not in chosen.roles:
            raise NotPermitted(
                f"role {role!r} may not take action {action!r} in state {state!r}"
                f" (allowed: {', '.join(sorted(chosen.roles))})",
                kind="role", state=state, action=action, role=role,
                options=tuple(sorted(chosen.roles)),
            )
        missing = chosen.requires - set(provided)
        if missing:
            raise MissingInput(
                missing,
                f"action {action!r} needs: {', '.join(sorted(missing))}",
            )
        target = self.states[chosen.target]
        return Transition(
            action=chosen,
            source=current,
            target=target,
            clock=clock_effect(current, target),
            terminal=target.terminal,
            outcome=target.outcome,
        )

    def reachable_states(self) -> set[str]:
        """The states some sequence of actions leads to from `initial` (itself included)."""
        return _reachable(self.initial, self._successors())

    def _successors(self) -> dict[str, set[str]]:
        graph: dict[str, set[str]] = {code: set() for code in self.states}
        for action in self.actions:
            for source in action.sources:
                graph.setdefault(source, set()).add(action.target)
        return graph


def read_workflows(
    entries: list[Any], state_language: str
) -> tuple[dict[str, Workflow], list[tuple[str, str, str]]]:
    """The workflows of a pack's workflows.yaml and its problems as (entry, field, message).

    Every entry is checked, also after an earlier one failed, so that all problems are
    reported at once; only valid workflows are returned.
    """
    if not isinstance(entries, list):
        return {}, [("", "", "must be a list of workflows")]
    workflows: dict[str, Workflow] = {}
    problems: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        label = _label(entry, index)
        code = entry.get("code") if isinstance(entry, Mapping) else None
        if isinstance(code, str):
            if code in seen:
                problems.append((label, "code", "duplicate code"))
            seen.add(code)
        workflow, faults = _build(entry, KNOWN_ROLES, state_language)
        problems.extend((label, where, message) for where, message in faults)
        if workflow is not None and not faults and workflow.code not in workflows:
            workflows[workflow.code] = workflow
    return workflows, problems


# --- building and validating ----------------------------------------------------------


def _label(data: Any, index: int | None = None) -> str:
    code = data.get("code") if isinstance(data, Mapping) else None
    if isinstance(code, str) and code:
        return f"workflow {code}"
    return f"workflow #{index + 1}" if index is not None else "workflow"


def _text_faults(value: Any, state_language: str | None) -> Iterator[str]:
    if not isinstance(value, Mapping) or not value:
        yield "must be a mapping of language code to text"
        return
    for language, text in value.items():
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            yield f"{language!r} is not a two-letter language code"
        elif not isinstance(text, str) or not text.strip():
            yield f"the {language} text is empty"
    if state_language is not None and state_language not in value:
        yield f"the state language {state_language!r} is missing"


def _code_fault(value: Any) -> str | None:
    if not isinstance(value, str) or not _CODE.match(value):
        return f"{value!r} is not a code (lowercase letters, digits and _)"
    return None


def _string_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _parse_state(
    raw: Any, index: int, faults: list[tuple[str, str]], state_language: str | None
) -> State | None:
    if not isinstance(raw, Mapping):
        faults.append((f"states[{index}]", "must be a mapping"))
        return None
    code = raw.get("code")
    if fault := _code_fault(code):
        faults.append((f"states[{index}]", f"code: {fault}"))
        return None
    where = f"state {code}"
    for key in sorted(set(raw) - _STATE_KEYS, key=str):
        faults.append((where, f"unknown field {key!r} (known: {', '.join(sorted(_STATE_KEYS))})"))
    faults.extend((where, f"name: {m}") for m in _text_faults(raw.get("name"), state_language))

    clock = raw.get("clock", RUNNING)
    if clock not in CLOCKS:
        faults.append((where, f"clock: {clock!r} is not one of {', '.join(CLOCKS)}"))
        clock = RUNNING
    waits_on = raw.get("waits_on")
    if waits_on is not None and waits_on not in WAITS_ON:
        faults.append((where, f"waits_on: {waits_on!r} is not one of {', '.join(WAITS_ON)}"))
        waits_on = None
    if clock == STOPPED and waits_on != "applicant":
        faults.append(
            (where, "clock: the clock stops only while waiting on the applicant"
                    " (waits_on: applicant)")
        )
    terminal = raw.get("terminal", False)
    if not isinstance(terminal, bool):
        faults.append((where, f"terminal: {terminal!r} is not true or false"))
        terminal = False
    outcome: Outcome | None = None
    raw_outcome = raw.get("outcome")
    if raw_outcome is not None:
        if raw_outcome in _OUTCOMES:
            outcome = Outcome(raw_outcome)
        else:
            faults.append(
                (where, f"outcome: {raw_outcome!r} is not one of {', '.join(Outcome)}")
            )
    if terminal and raw_outcome is None:
        faults.append((where, "a terminal state needs an outcome (issued, refused, withdrawn)"))
    if outcome is not None and not terminal:
        faults.append((where, "outcome: only a terminal state has an outcome"))
    if terminal and (clock == STOPPED or waits_on is not None):
        faults.append((where, "a terminal state waits on no one and does not stop the clock"))

    limit: tuple[int, str] | None = None
    raw_limit = raw.get("limit")
    if raw_limit is not None:
        if not isinstance(raw_limit, Mapping) or set(raw_limit) != {"value", "unit"}:
            faults.append((where, "limit: must be {value: <whole number>, unit: <unit>}"))
        else:
            value, unit = raw_limit["value"], raw_limit["unit"]
            good = True
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                faults.append((where, f"limit: value {value!r} is not a whole number above 0"))
                good = False
            if unit not in LIMIT_UNITS:
                faults.append(
                    (where, f"limit: unit {unit!r} is not one of {', '.join(LIMIT_UNITS)}")
                )
                good = False
            if good:
                limit = (value, unit)
        if terminal:
            faults.append((where, "limit: a terminal state has no time limit"))

    name = raw.get("name")
    return State(
        code=str(code),
        name=dict(name) if isinstance(name, Mapping) else {},
        clock=clock,
        waits_on=waits_on,
        terminal=terminal,
        outcome=outcome,
        limit=limit,
    )


def _parse_action(
    raw: Any,
    index: int,
    states: Mapping[str, State],
    known_roles: frozenset[str],
    faults: list[tuple[str, str]],
    state_language: str | None,
) -> Action | None:
    if not isinstance(raw, Mapping):
        faults.append((f"actions[{index}]", "must be a mapping"))
        return None
    code = raw.get("code")
    if fault := _code_fault(code):
        faults.append((f"actions[{index}]", f"code: {fault}"))
        return None
    where = f"action {code}"
    usable = True
    for key in sorted(set(raw) - _ACTION_KEYS, key=str):
        faults.append(
            (where, f"unknown field {key!r} (known: {', '.join(sorted(_ACTION_KEYS))})")
        )
    faults.extend((where, f"name: {m}") for m in _text_faults(raw.get("name"), state_language))

    sources = _string_list(raw.get("from"))
    if not sources:
        faults.append((where, "from: must name at least one state"))
        sources, usable = [], False
    for source in sources:
        if source not in states:
            faults.append((where, f"from: no state {source!r} in the workflow"))
            usable = False
    target = raw.get("to")
    if not isinstance(target, str) or target not in states:
        faults.append((where, f"to: no state {target!r} in the workflow"))
        usable = False

    roles = _string_list(raw.get("roles"))
    if not roles:
        faults.append((where, "roles: must name at least one role"))
        roles = []
    for role in roles:
        if role not in known_roles:
            faults.append(
                (where, f"roles: unknown role {role!r} (known: {', '.join(sorted(known_roles))})")
            )
    requires = [] if raw.get("requires") is None else _string_list(raw["requires"])
    if requires is None:
        faults.append((where, "requires: must be a list of inputs"))
        requires = []
    for item in requires:
        if item not in INPUTS:
            faults.append(
                (where, f"requires: unknown input {item!r} (known: {', '.join(sorted(INPUTS))})")
            )
    if not usable:
        return None
    name = raw.get("name")
    return Action(
        code=str(code),
        name=dict(name) if isinstance(name, Mapping) else {},
        sources=tuple(dict.fromkeys(sources)),
        target=str(target),
        roles=frozenset(roles),
        requires=frozenset(item for item in requires if item in INPUTS),
    )


def _reachable(start: str, graph: Mapping[str, Collection[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for following in graph.get(stack.pop(), ()):
            if following not in seen:
                seen.add(following)
                stack.append(following)
    return seen


def _build(
    data: Any, known_roles: frozenset[str], state_language: str | None
) -> tuple[Workflow | None, list[tuple[str, str]]]:
    """The workflow and its faults as (where, message); None when it cannot be built."""
    faults: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        return None, [("", "a workflow must be a mapping")]
    for key in sorted(set(data) - _WORKFLOW_KEYS, key=str):
        faults.append(("", f"unknown field {key!r} (known: {', '.join(sorted(_WORKFLOW_KEYS))})"))
    workflow_code = data.get("code")
    if fault := _code_fault(workflow_code):
        faults.append(("code", fault))
    faults.extend(("name", m) for m in _text_faults(data.get("name"), state_language))
    if "description" in data:
        faults.extend(
            ("description", m) for m in _text_faults(data["description"], state_language)
        )

    # states
    raw_states = data.get("states")
    states: dict[str, State] = {}
    if not isinstance(raw_states, list) or not raw_states:
        faults.append(("states", "must be a non-empty list of states"))
        raw_states = []
    for index, raw in enumerate(raw_states):
        state = _parse_state(raw, index, faults, state_language)
        if state is None:
            continue
        if state.code in states:
            faults.append((f"state {state.code}", "duplicate state code"))
            continue
        states[state.code] = state

    initial = data.get("initial")
    if not isinstance(initial, str) or initial not in states:
        faults.append(("initial", f"no state {initial!r} in the workflow"))
        initial = None
    elif states[initial].terminal:
        faults.append(("initial", f"the initial state {initial!r} is terminal"))
    elif states[initial].stopped:
        faults.append(("initial", f"the initial state {initial!r} stops the clock"))

    # actions
    raw_actions = data.get("actions")
    if not isinstance(raw_actions, list):
        faults.append(("actions", "must be a list of actions"))
        raw_actions = []
    actions: list[Action] = []
    offered: set[tuple[str, str]] = set()
    for index, raw in enumerate(raw_actions):
        action = _parse_action(raw, index, states, known_roles, faults, state_language)
        if action is None:
            continue
        where = f"action {action.code}"
        for source in action.sources:
            if (action.code, source) in offered:
                faults.append((where, f"offered twice from state {source!r}"))
            offered.add((action.code, source))
            if states[source].terminal:
                faults.append(
                    (f"state {source}", f"is terminal, yet action {action.code!r} leaves it")
                )
        target = states[action.target]
        if target.outcome is Outcome.REFUSED and "ground" not in action.requires:
            faults.append(
                (where, f"requires: it leads to the refusal {target.code!r},"
                        " so it must require a ground")
            )
        actions.append(action)

    # the graph
    graph: dict[str, set[str]] = {code: set() for code in states}
    for action in actions:
        for source in action.sources:
            graph[source].add(action.target)
    for code, state in states.items():
        if not state.terminal and not graph[code]:
            faults.append((f"state {code}", "a dead end: not terminal, and no action leaves it"))
    if initial is not None:
        reachable = _reachable(initial, graph)
        for code in states:
            if code not in reachable:
                faults.append((f"state {code}", f"unreachable from the initial state {initial!r}"))
        terminals = {code for code, state in states.items() if state.terminal}
        if not terminals & reachable:
            faults.append(("", f"no terminal state is reachable from {initial!r}"))
        else:
            reverse: dict[str, set[str]] = {code: set() for code in states}
            for source, targets in graph.items():
                for target_code in targets:
                    reverse[target_code].add(source)
            can_finish: set[str] = set()
            for terminal in terminals:
                can_finish |= _reachable(terminal, reverse)
            for code in sorted(reachable - can_finish):
                if graph[code]:  # a dead end is reported above
                    faults.append(
                        (f"state {code}", "no terminal state can be reached from it (a loop)")
                    )

    if faults or initial is None or not isinstance(workflow_code, str):
        return None, faults
    name = data.get("name")
    return (
        Workflow(
            code=workflow_code,
            name=dict(name) if isinstance(name, Mapping) else {},
            initial=initial,
            states=MappingProxyType(states),
            actions=tuple(actions),
        ),
        [],
    )
