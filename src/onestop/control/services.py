"""Control of violations: the periodic scans that find them, and their handling.

One scan function per kind, each a bounded, set-based query: the database finds the
candidates (e.g. `deadline_at < now`, not finished, no violation of that kind recorded
yet) and only the candidates come to Python. `scan(country, now)` runs them all in one
transaction, records each violation once (its `key` is unique: a second scan, or two
scans at once, add nothing), writes one audit entry and sends one digest per recipient.

Keys (the style of feedback.services): `<kind>:app:<application id>` for an
application's deadline, deadline alert, refusal; `stage_overdue:app:<id>:<event id>`
(the event that entered the stage: a stage entered again is a new stay);
`extra_documents:app:<id>:<event id>` (each request); `<kind>:ticket:<ticket id>`;
`complaint_overdue:<complaint number>` (as `feedback.services.escalate_overdue`).

Who found it (`found_by`, docs/control.md): the early warnings the agency gets to act
on itself, "deadline near" and a stage over its internal time limit, are its internal
control (`self`); every breach of the standard or the law found by the scans is the
control body's (`control`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications.models import Application, ApplicationEvent
from onestop.applications.workflow import Workflow, WorkflowInvalid
from onestop.audit.services import NewEntry, record_many
from onestop.catalogue.models import Agency, Country, ServiceStandard, WorkflowDefinition
from onestop.catalogue.selectors import calendar_for, local_today
from onestop.centres.models import ServiceGroup, Ticket
from onestop.centres.stats import group_standards
from onestop.control.errors import Conflict, Forbidden, Invalid
from onestop.control.models import FoundBy, Violation, ViolationKind, ViolationState
from onestop.control.selectors import may_handle
from onestop.feedback.models import Complaint, ComplaintLevel, ComplaintState
from onestop.notifications.services import NotificationError, enqueue_for_user

logger = logging.getLogger(__name__)

SYSTEM = "system"
BATCH = 2000
MAX_NOTE = 5000
VIOLATIONS_URL = "/control/violations/"
# Requests for documents are checked again for this many days after they were made
# (a scan every few minutes sees each one many times); `scan(..., full=True)` checks all.
RECHECK_DAYS = 35
# how each kind is found (docs/control.md, "Who found it")
FOUND_BY: dict[str, str] = {
    ViolationKind.DEADLINE_NEAR: FoundBy.SELF,
    ViolationKind.STAGE_OVERDUE: FoundBy.SELF,
}
OPEN_COMPLAINT = (ComplaintState.REGISTERED, ComplaintState.IN_REVIEW)


def alert_share() -> float:
    """The share of an application's time used that raises "deadline near"."""
    return float(getattr(settings, "ONESTOP_DEADLINE_ALERT_SHARE", 0.8))


def _found_by(kind: str) -> str:
    return FOUND_BY.get(kind, FoundBy.CONTROL)


def _none_yet(kind: str, field_name: str = "application") -> Exists:
    """No violation of this kind recorded yet for the row (an anti-join)."""
    return Exists(Violation.objects.filter(kind=kind, **{field_name: OuterRef("pk")}))


def _batched(rows: Iterable[Violation]) -> Iterator[list[Violation]]:
    batch: list[Violation] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _record(rows: Iterable[Violation], now: dt.datetime) -> list[Violation]:
    """Insert the violations whose key is not recorded yet; return those this call wrote.
    A concurrent scan inserting the same key first wins (ignore_conflicts)."""
    written: list[Violation] = []
    for batch in _batched(rows):
        keys = [row.key for row in batch]
        known = set(Violation.objects.filter(key__in=keys).values_list("key", flat=True))
        fresh = [row for row in batch if row.key not in known]
        if not fresh:
            continue
        Violation.objects.bulk_create(fresh, ignore_conflicts=True)
        written += Violation.objects.filter(
            key__in=[row.key for row in fresh], found_at=now
        ).order_by("pk")
    return written


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- applications ----------------------------------------------------------------------


def scan_deadline_missed(country: Country, now: dt.datetime) -> list[Violation]:
    """Applications past their deadline: open with the clock running and the deadline
    behind (or the clock stopped after the deadline had passed: a stop does not excuse
    lateness), or finished (issued, refused) after it. Withdrawn ones are not counted."""
    kind = ViolationKind.DEADLINE_MISSED
    late_open = Q(outcome="", deadline_at__lt=now) & (
        Q(clock_stopped_at__isnull=True) | Q(clock_stopped_at__gt=F("deadline_at"))
    )
    late_done = ~Q(outcome="") & Q(completed_at__gt=F("deadline_at"))
    rows = (
        Application.objects.filter(country=country)
        .filter(late_open | late_done)
        .exclude(outcome="withdrawn")
        .filter(~_none_yet(kind))
        .values_list("pk", "number", "agency_id", "assigned_to_id", "deadline_at",
                     "completed_at")
    )
    return _record((
        Violation(
            country=country, kind=kind, key=f"{kind}:app:{pk}", found_at=now,
            found_by=_found_by(kind), application_id=pk, agency_id=agency_id,
            person_id=person_id,
            detail={"application": number, "deadline": _iso(deadline),
                    "completed_at": _iso(completed)},
        )
        for pk, number, agency_id, person_id, deadline, completed in rows.iterator(BATCH)
    ), now)


def _longest_deadline(country: Country, now: dt.datetime) -> dt.timedelta:
    """The longest calendar span of any of the country's standard deadlines, from now."""
    calendar = calendar_for(country)
    spans = [
        calendar.deadline(now, value, unit) - now
        for value, unit in ServiceStandard.objects.filter(service__country=country)
        .values_list("deadline_value", "deadline_unit").distinct()
        if value and value > 0
    ]
    return max(spans, default=dt.timedelta(0))


def scan_deadline_near(country: Country, now: dt.datetime) -> list[Violation]:
    """Open applications, clock running, deadline not yet passed, that have used at least
    ONESTOP_DEADLINE_ALERT_SHARE of their time (in elapsed time, pauses excluded):
    `(now - submitted - stopped) / (deadline - submitted - stopped) >= share`.

    The database narrows to deadlines within (1 - share) x twice the longest standard
    deadline from now; the share is computed for those only."""
    kind = ViolationKind.DEADLINE_NEAR
    share = alert_share()
    horizon = _longest_deadline(country, now) * 2 * (1 - share)
    rows = (
        Application.objects.filter(
            country=country, outcome="", clock_stopped_at__isnull=True,
            deadline_at__gte=now, deadline_at__lte=now + horizon,
        )
        .filter(~_none_yet(kind), ~_none_yet(ViolationKind.DEADLINE_MISSED))
        .values_list("pk", "number", "agency_id", "assigned_to_id", "submitted_at",
                     "deadline_at", "stopped_seconds")
    )

    def near() -> Iterator[Violation]:
        for pk, number, agency_id, person_id, submitted, deadline, stopped in rows.iterator(
            BATCH
        ):
            paused = dt.timedelta(seconds=stopped)
            total = (deadline - submitted - paused).total_seconds()
            used = (now - submitted - paused).total_seconds()
            if total <= 0 or used / total < share:
                continue
            yield Violation(
                country=country, kind=kind, key=f"{kind}:app:{pk}", found_at=now,
                found_by=_found_by(kind), application_id=pk, agency_id=agency_id,
                person_id=person_id,
                detail={"application": number, "deadline": _iso(deadline),
                        "share_used": round(used / total, 3), "alert_share": share},
            )

    return _record(near(), now)


def _minimum_span(value: int, unit: str) -> dt.timedelta:
    """A lower bound of the calendar span of a stage limit (to narrow in the database)."""
    if unit == "working_days":
        return dt.timedelta(days=max(value - 1, 0))
    if unit == "hours":
        return dt.timedelta(hours=value)
    return dt.timedelta(minutes=value)


def scan_stage_overdue(country: Country, now: dt.datetime) -> list[Violation]:
    """Open applications that have stayed in a stage longer than the stage's `limit` in
    the pack's workflow, counted from the event that entered the stage on the country's
    calendar."""
    kind = ViolationKind.STAGE_OVERDUE
    calendar = calendar_for(country)
    found: list[Violation] = []
    for definition in WorkflowDefinition.objects.filter(country=country).order_by("code"):
        try:
            workflow = Workflow.from_mapping(definition.definition)
        except WorkflowInvalid:  # the pack loader refuses these: nothing to check
            logger.warning("workflow %s of %s is not valid: stages not checked",
                           definition.code, country.code)
            continue
        for state in workflow.states.values():
            if state.limit is None or state.terminal:
                continue
            value, unit = state.limit
            entered = ApplicationEvent.objects.filter(
                application=OuterRef("pk"), to_state=state.code
            ).order_by("-at", "-pk")
            rows = (
                Application.objects.filter(
                    country=country, workflow=definition.code, state=state.code, outcome=""
                )
                .annotate(entered_at=Subquery(entered.values("at")[:1]),
                          entered_by=Subquery(entered.values("pk")[:1]))
                .filter(entered_at__lte=now - _minimum_span(value, unit))
                .values_list("pk", "number", "agency_id", "assigned_to_id", "entered_at",
                             "entered_by")
            )
            for pk, number, agency_id, person_id, entered_at, event_id in rows.iterator(BATCH):
                limit_at = calendar.deadline(entered_at, value, unit)
                if limit_at >= now:
                    continue
                found.append(Violation(
                    country=country, kind=kind, key=f"{kind}:app:{pk}:{event_id}",
                    found_at=now, found_by=_found_by(kind), application_id=pk,
                    agency_id=agency_id, person_id=person_id,
                    detail={"application": number, "stage": state.code,
                            "entered_at": _iso(entered_at), "limit": f"{value} {unit}",
                            "limit_at": _iso(limit_at)},
                ))
    return _record(found, now)


def scan_refusal_ground(country: Country, now: dt.datetime) -> list[Violation]:
    """Refused applications whose ground is not one of their standard's refusal grounds
    (or that give none). The distinct (standard, ground) pairs are checked against the
    standards; only the applications of a bad pair are read."""
    kind = ViolationKind.REFUSAL_GROUND
    refused = Application.objects.filter(country=country, outcome="refused").filter(
        ~_none_yet(kind)
    )
    pairs = set(refused.values_list("standard_id", "refusal_ground").distinct())
    if not pairs:
        return []
    grounds = {
        pk: {str(g.get("code")) for g in (refusal_grounds or []) if isinstance(g, dict)}
        for pk, refusal_grounds in ServiceStandard.objects.filter(
            pk__in={standard for standard, _ in pairs}
        ).values_list("pk", "refusal_grounds")
    }
    bad = [(standard, ground) for standard, ground in pairs
           if ground not in grounds.get(standard, set())]
    if not bad:
        return []
    which = Q(pk__in=[])
    for standard, ground in bad:
        which |= Q(standard_id=standard, refusal_ground=ground)
    refusal = ApplicationEvent.objects.filter(
        application=OuterRef("pk"), to_state=OuterRef("state")
    ).order_by("-at", "-pk")
    rows = (
        refused.filter(which)
        .annotate(refused_by=Subquery(refusal.values("actor_id")[:1]))
        .values_list("pk", "number", "agency_id", "refused_by", "refusal_ground",
                     "standard_id")
    )
    return _record((
        Violation(
            country=country, kind=kind, key=f"{kind}:app:{pk}", found_at=now,
            found_by=_found_by(kind), application_id=pk, agency_id=agency_id,
            person_id=person_id,
            detail={"application": number, "ground": ground,
                    "standard_grounds": sorted(grounds.get(standard, set()))},
        )
        for pk, number, agency_id, person_id, ground, standard in rows.iterator(BATCH)
    ), now)


def scan_extra_documents(country: Country, now: dt.datetime, *, full: bool = False
                         ) -> list[Violation]:
    """Requests for documents (the `requested_documents` of an application's event) that
    name a document not in the standard's list. Requests of the last RECHECK_DAYS days
    are read (all of them with `full`)."""
    kind = ViolationKind.EXTRA_DOCUMENTS
    events = ApplicationEvent.objects.filter(
        application__country=country, data__has_key="requested_documents"
    )
    if not full:
        events = events.filter(at__gte=now - dt.timedelta(days=RECHECK_DAYS))
    rows = events.values_list(
        "pk", "application_id", "application__number", "application__agency_id", "actor_id",
        "application__standard_id", "data",
    ).order_by("pk")
    listed: dict[int, set[str]] = {}

    def extra() -> Iterator[Violation]:
        for pk, app_id, number, agency_id, actor_id, standard_id, data in rows.iterator(BATCH):
            if standard_id not in listed:
                documents = ServiceStandard.objects.filter(pk=standard_id).values_list(
                    "documents", flat=True).first() or []
                listed[standard_id] = {
                    str(d.get("code")) for d in documents if isinstance(d, dict)
                }
            asked = data.get("requested_documents") if isinstance(data, dict) else None
            beyond = sorted({str(code) for code in asked or []} - listed[standard_id])
            if not beyond:
                continue
            yield Violation(
                country=country, kind=kind, key=f"{kind}:app:{app_id}:{pk}", found_at=now,
                found_by=_found_by(kind), application_id=app_id, agency_id=agency_id,
                person_id=actor_id,
                detail={"application": number, "event": pk, "beyond_standard": beyond},
            )

    return _record(extra(), now)


# --- tickets ---------------------------------------------------------------------------


def scan_wait_over(country: Country, now: dt.datetime) -> list[Violation]:
    """Finished tickets that waited longer than their group's maximum wait (the strictest
    `max_wait_minutes` of the standards of the group's services, else the country's
    default: `centres.stats.group_standards`). The centre is responsible; the person is
    the operator who called the ticket."""
    kind = ViolationKind.WAIT_OVER
    standards = group_standards(country, local_today(country, now))
    limits = {
        pk: standards.max_wait(pk) * 60
        for pk in ServiceGroup.objects.filter(country=country).values_list("pk", flat=True)
    }
    if not limits:
        return []
    over = Q(pk__in=[])
    for group_id, seconds in limits.items():
        over |= Q(group_id=group_id, wait_seconds__gt=seconds)
    rows = (
        Ticket.objects.filter(centre__country=country, wait_seconds__isnull=False)
        .filter(over)
        .filter(~_none_yet(kind, "ticket"))
        .values_list("pk", "number", "day", "centre_id", "operator_id", "group_id",
                     "wait_seconds")
    )
    return _record((
        Violation(
            country=country, kind=kind, key=f"{kind}:ticket:{pk}", found_at=now,
            found_by=_found_by(kind), ticket_id=pk, centre_id=centre_id,
            person_id=operator_id,
            detail={"ticket": number, "day": day.isoformat(), "wait_seconds": wait,
                    "max_wait_seconds": limits[group_id]},
        )
        for pk, number, day, centre_id, operator_id, group_id, wait in rows.iterator(BATCH)
    ), now)


def scan_counter_time_over(country: Country, now: dt.datetime) -> list[Violation]:
    """Served tickets whose time at the counter is over the standard: the sum of the
    `max_service_minutes` of the standards of the applications taken at that visit (a
    visit for two services may take both times). A ticket without a linked application,
    or whose standards set no maximum, is not checked."""
    kind = ViolationKind.COUNTER_TIME_OVER
    rows = (
        Ticket.objects.filter(centre__country=country, service_seconds__isnull=False)
        .filter(~_none_yet(kind, "ticket"))
        .annotate(limit=Sum("applications__standard__max_service_minutes"))
        .filter(limit__isnull=False, service_seconds__gt=F("limit") * 60)
        .values_list("pk", "number", "day", "centre_id", "operator_id", "service_seconds",
                     "limit")
    )
    return _record((
        Violation(
            country=country, kind=kind, key=f"{kind}:ticket:{pk}", found_at=now,
            found_by=_found_by(kind), ticket_id=pk, centre_id=centre_id,
            person_id=operator_id,
            detail={"ticket": number, "day": day.isoformat(), "service_seconds": served,
                    "max_service_seconds": limit * 60},
        )
        for pk, number, day, centre_id, operator_id, served, limit in rows.iterator(BATCH)
    ), now)


# --- complaints ------------------------------------------------------------------------


def scan_complaint_overdue(country: Country, now: dt.datetime) -> list[Violation]:
    """Provider-level complaints not answered by their deadline (extended or not): open
    past it, or decided after it. `onestop complaints escalate` records the same key
    when it takes one to the control body; the control body's own complaints are not
    scanned."""
    kind = ViolationKind.COMPLAINT_OVERDUE
    rows = (
        Complaint.objects.filter(country=country, level=ComplaintLevel.PROVIDER)
        .annotate(due=Coalesce("extended_to", "deadline_at"))
        .filter(Q(state__in=OPEN_COMPLAINT, due__lt=now) | Q(decided_at__gt=F("due")))
        .filter(~_none_yet(kind, "complaint"))
        .values_list("pk", "number", "application_id", "agency_id", "centre_id",
                     "handler_id", "due", "decided_at")
    )
    return _record((
        Violation(
            country=country, kind=kind, key=f"{kind}:{number}", found_at=now,
            found_by=_found_by(kind), complaint_id=pk, application_id=application_id,
            agency_id=agency_id, centre_id=centre_id, person_id=handler_id,
            detail={"complaint": number, "deadline": _iso(due), "decided_at": _iso(decided)},
        )
        for pk, number, application_id, agency_id, centre_id, handler_id, due, decided
        in rows.iterator(BATCH)
    ), now)


# --- the scan --------------------------------------------------------------------------

SCANS: dict[str, Callable[[Country, dt.datetime], list[Violation]]] = {
    ViolationKind.DEADLINE_MISSED: scan_deadline_missed,
    ViolationKind.DEADLINE_NEAR: scan_deadline_near,
    ViolationKind.STAGE_OVERDUE: scan_stage_overdue,
    ViolationKind.WAIT_OVER: scan_wait_over,
    ViolationKind.COUNTER_TIME_OVER: scan_counter_time_over,
    ViolationKind.COMPLAINT_OVERDUE: scan_complaint_overdue,
    ViolationKind.REFUSAL_GROUND: scan_refusal_ground,
    ViolationKind.EXTRA_DOCUMENTS: scan_extra_documents,
}


@dataclass
class ScanResult:
    country: str
    at: dt.datetime
    new: dict[str, list[Violation]] = field(default_factory=dict)
    notified: int = 0

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.new.values())


def scan(country: Country, now: dt.datetime | None = None, *, full: bool = False
         ) -> ScanResult:
    """Run every scan for one country at `now`, in one transaction: record the new
    violations, one audit entry, and one digest notice per supervisor of a responsible
    agency (or of the agencies above it) or centre and per controller."""
    now = now or timezone.now()
    result = ScanResult(country=country.code, at=now)
    with transaction.atomic():
        for kind, run in SCANS.items():
            if kind == ViolationKind.EXTRA_DOCUMENTS:
                result.new[kind] = scan_extra_documents(country, now, full=full)
            else:
                result.new[kind] = run(country, now)
        fresh = [row for rows in result.new.values() for row in rows]
        if fresh:
            result.notified = _send_digests(country, fresh, now)
        record_many([NewEntry(
            actor_username=SYSTEM, actor_role=SYSTEM, action="violations.scanned",
            subject_type="country", subject_id=country.code,
            data={"at": now.isoformat(), "new": {k: len(v) for k, v in result.new.items()},
                  "notified": result.notified},
        )])
    return result


def _chain(agency_id: int, parents: Mapping[int, int | None]) -> set[int]:
    found: set[int] = set()
    current: int | None = agency_id
    while current is not None and current not in found:
        found.add(current)
        current = parents.get(current)
    return found


def kind_labels(language: str) -> dict[str, str]:
    """The human label of every violation kind, translated into `language` (the digest
    is rendered later, by the worker: the labels go into its context as text)."""
    with translation.override(language):
        return {str(kind.value): str(kind.label) for kind in ViolationKind}


def _send_digests(country: Country, fresh: list[Violation], now: dt.datetime) -> int:
    """One message per recipient for this scan, however many violations: the count of
    each kind in their scope and a link to the violations page."""
    parents: dict[int, int | None] = dict(
        Agency.objects.filter(country=country).values_list("pk", "parent_id"))
    tallies: dict[int, Tally[str]] = {}
    users: dict[int, User] = {}
    controllers = list(User.objects.filter(is_active=True, role=Role.CONTROLLER))
    for user in controllers:
        users[user.pk] = user
        tallies[user.pk] = Tally(row.kind for row in fresh)
    supervisors = list(User.objects.filter(is_active=True, role=Role.SUPERVISOR).filter(
        Q(agency__country=country) | Q(centre__country=country)
    ))
    for user in supervisors:
        tally: Tally[str] = Tally()
        for row in fresh:
            if row.agency_id is not None and user.agency_id is not None:
                if user.agency_id in _chain(row.agency_id, parents):
                    tally[row.kind] += 1
            elif row.agency_id is None and row.centre_id is not None \
                    and row.centre_id == user.centre_id:
                tally[row.kind] += 1
        if tally:
            users[user.pk] = user
            tallies[user.pk] = tally
    sent = 0
    language = country.languages[0]
    labels = kind_labels(language)
    for pk, tally in tallies.items():
        context: dict[str, Any] = {
            "languages": country.languages,
            "count": sum(tally.values()),
            "kinds": [{"kind": kind, "label": labels.get(kind, kind), "count": n}
                      for kind, n in sorted(tally.items())],
            "url": VIOLATIONS_URL,
        }
        try:
            message = enqueue_for_user(
                user=users[pk], template="violations_digest", language=language,
                context=context, subject_type="violations",
                subject_id=f"{country.code}:{now:%Y-%m-%dT%H:%M:%S}",
            )
        except NotificationError as exc:
            logger.warning("violations digest not queued: %s", exc)
            continue
        if message is not None:
            sent += 1
    return sent


# --- handling --------------------------------------------------------------------------

# action -> (the state it leads to, the states it may be taken from, whether a note is due)
# A violation's states as a refusal names them, in the reader's language.
STATE_WORDS: dict[str, Promise] = {
    ViolationState.OPEN: gettext_lazy("open"),
    ViolationState.ACKNOWLEDGED: gettext_lazy("acknowledged"),
    ViolationState.EXPLAINED: gettext_lazy("explained"),
    ViolationState.PENALISED: gettext_lazy("penalised"),
    ViolationState.CLOSED: gettext_lazy("closed"),
}
ACTIONS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "acknowledge": (ViolationState.ACKNOWLEDGED, (ViolationState.OPEN,), False),
    "explain": (ViolationState.EXPLAINED,
                (ViolationState.OPEN, ViolationState.ACKNOWLEDGED), True),
    "penalise": (ViolationState.PENALISED,
                 (ViolationState.OPEN, ViolationState.ACKNOWLEDGED, ViolationState.EXPLAINED),
                 True),
    "close": (ViolationState.CLOSED,
              (ViolationState.OPEN, ViolationState.ACKNOWLEDGED, ViolationState.EXPLAINED,
               ViolationState.PENALISED), False),
}


def actions_for(user: User, violation: Violation) -> list[str]:
    if not may_handle(user, violation):
        return []
    return [name for name, (_, sources, _) in ACTIONS.items() if violation.state in sources]


def handle(*, violation: Violation, user: User, action: str, note: str = "",
           now: dt.datetime | None = None) -> Violation:
    """Acknowledge, explain (a note: why), penalise (a note: what measure) or close a
    violation, as the responsible agency's or centre's supervisor or a controller. Writes
    handled_by/at, the note (kept in the violation's history too) and an audit entry."""
    now = now or timezone.now()
    note = note.strip()
    if action not in ACTIONS:
        raise Invalid(_("action: one of %(values)s") % {"values": ", ".join(ACTIONS)})
    target, sources, note_due = ACTIONS[action]
    if note_due and not note:
        raise Invalid(_("note: say why") if action == "explain"
                      else _("note: say what measure was taken"))
    if len(note) > MAX_NOTE:
        raise Invalid(_("note: at most %(n)s characters") % {"n": MAX_NOTE})
    with transaction.atomic():
        locked = Violation.objects.select_for_update().get(pk=violation.pk)
        if not may_handle(user, locked):
            raise Forbidden(_("violations are handled by the responsible unit's supervisor "
                              "or the control body"))
        if locked.state not in sources:
            raise Conflict(_("this violation is %(state)s: it cannot be %(target)s now")
                           % {"state": STATE_WORDS.get(locked.state, locked.state),
                              "target": STATE_WORDS.get(target, target)})
        source = locked.state
        locked.state = target
        locked.handled_at = now
        locked.handled_by = user
        if note:
            locked.note = note
        history = list(locked.detail.get("handling", [])) if isinstance(locked.detail, dict) \
            else []
        history.append({"action": action, "at": now.isoformat(), "by": user.username,
                        "role": str(user.role), "note": note})
        locked.detail = {**(locked.detail if isinstance(locked.detail, dict) else {}),
                         "handling": history}
        locked.save(update_fields=["state", "handled_at", "handled_by", "note", "detail"])
        record_many([NewEntry(
            actor_username=user.username, actor_role=str(user.role),
            action=f"violation.{action}", subject_type="violation", subject_id=locked.key,
            data={"from": source, "to": target, "at": now.isoformat(),
                  **({"note": note} if note else {})},
        )])
    return locked
