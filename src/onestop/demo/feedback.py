"""The citizens' side of a demo history: ratings, complaints and the violations they bring.

Pure Python (no Django), like `onestop.demo.generator`: `FeedbackPlanner.add(chunk)` runs
over each planned chunk once its applications and tickets are complete and adds to it

- ratings of a share of the completed applications (by their applicants with a portal
  account, as `feedback.services.rate` allows) and of the served tickets (through the QR
  code of the receipt or a kiosk): every criterion of the pack scored 1-5, lower where the
  application was late or refused or the wait was long, some with a comment, and the
  alert flag `feedback.services.is_signal` would set;
- complaints about a share of the refused, late and sent-back applications, on a ground
  of the pack that fits: registered some days after the outcome, given to an officer of
  the unit, sometimes extended, decided in time or late (deadlines in working days on the
  country's calendar, as `feedback.services._deadline` computes them), left unanswered and
  escalated by the overdue job, or taken to the control body by a citizen who disagrees;
- the consequences the live services record: an upheld complaint against a refusal flags
  the fee for refund and records the refusal as unjustified (a violation found by the
  agency itself, or by the control body at its level); an escalated overdue complaint
  records "complaint answered late";
- the early warnings the periodic scan raised while the applications were open:
  "deadline near" for every finished application that used `alert_share` of its time
  (found by the agency itself, when the share was reached).

The violations the scans find from the rows themselves (deadlines missed, waits and
counter times over the standard, complaints decided late...) are left to the scan the
writer runs at the end (`onestop.control.services`), so there is one definition of each.
Draws come from a generator of their own: the same seed gives the same feedback.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onestop.core.calendar import WorkingCalendar

# how many of those who could, do (a year's averages; rating is voluntary)
RATE_APPLICATION = 0.32
RATE_TICKET = 0.18
COMMENT_SHARE = 0.14
COMPLAIN_REFUSED = 0.14
COMPLAIN_LATE = 0.09
COMPLAIN_SENT_BACK = 0.008
COMPLAIN_ISSUED = 0.002
# how the provider answers: in time, late (within hours of the deadline), not at all (the
# overdue job escalates it), or the citizen withdraws
ANSWER_LATE = 0.07
ANSWER_NEVER = 0.05
WITHDRAWN = 0.04
EXTENDED = 0.06
UPHELD = {"unjustified_refusal": (0.22, 0.08)}  # ground -> (upheld, partly upheld)
UPHELD_OTHER = (0.3, 0.15)
DISAGREE = 0.2  # of the rejected: the citizen takes it to the control body
CONTROL_LATE = 0.06
CONTROL_UPHELD = (0.3, 0.1)

GROUND_PREFERENCE = {
    "refused": ("unjustified_refusal", "improper_service"),
    "late": ("missed_deadline", "inaction", "improper_service"),
    "sent_back": ("extra_documents", "improper_service"),
    "issued": ("improper_service",),
}
POSITIVE = ("Спасибо, всё быстро и понятно.", "Вежливый сотрудник, рекомендую.",
            "Удобно, без очередей.", "Получил результат вовремя.")
NEGATIVE = ("Долго ждал результата.", "Отказали без объяснения причин.",
            "Пришлось несколько раз приходить.", "Сотрудник не смог объяснить порядок.",
            "Сроки нарушены, никто не предупредил.")
NEGATIVE_QUEUE = ("Очень долго ждал в очереди.", "Мало окон работает, большая очередь.")
COMPLAINT_TEXTS = {
    "unjustified_refusal": "Считаю отказ необоснованным: все документы были представлены.",
    "missed_deadline": "Срок оказания услуги нарушен, результат не получен вовремя.",
    "inaction": "Заявление долго не рассматривалось, на обращения не отвечают.",
    "extra_documents": "Потребовали документы, которых нет в стандарте услуги.",
    "improper_service": "Услуга оказана ненадлежащим образом.",
}
DECISION_REASONS = {
    "upheld": "Доводы подтвердились; приняты меры.",
    "partly_upheld": "Доводы подтвердились частично.",
    "rejected": "Нарушений не установлено; решение принято в соответствии со стандартом.",
}
EXTENSION_REASON = "Запрошены сведения у другого органа."
DISAGREE_REASON = "Не согласен с ответом."


@dataclass(frozen=True)
class FeedbackInfo:
    """The `feedback` section of the pack, as plain data."""

    criteria: tuple[str, ...]
    alert_at_or_below: int
    grounds: Mapping[str, frozenset[str]]  # ground code -> subjects it may be about
    deadlines: Mapping[str, tuple[int, str]]  # level -> (value, unit)
    max_extension_days: int = 60


@dataclass(slots=True)
class PlannedRating:
    app: int | None  # index in the chunk's apps
    ticket: int | None  # index in the chunk's tickets
    agency: int | None
    centre: int | None
    citizen: int | None
    channel: str
    scores: dict[str, int]
    mean: Decimal
    lowest: int
    comment: str
    alert: bool
    created_at: datetime


@dataclass(slots=True)
class PlannedComplaintEvent:
    at: datetime
    action: str
    actor: int | None  # a user pk (None: the system's job)
    actor_name: str
    actor_role: str
    note: str
    data: dict[str, Any]


@dataclass(slots=True)
class PlannedComplaint:
    year: int  # the local year of registration: the number's prefix
    serial: int  # its place among the run's complaints of that year (numbers follow)
    level: str
    subject: str
    ground: str
    text: str
    app: int  # index in the chunk's apps
    agency: int | None
    centre: int | None
    citizen: int
    state: str
    registered_at: datetime
    deadline_at: datetime
    extended_to: datetime | None = None
    extension_reason: str = ""
    handler: int | None = None
    decision: str = ""
    decision_reason: str = ""
    decided_at: datetime | None = None
    escalated_from: int | None = None  # index in the chunk's complaints
    events: list[PlannedComplaintEvent] = field(default_factory=list)


@dataclass(slots=True)
class PlannedViolation:
    """A violation with the key the live code gives it: `<kind>:app:<application id>`, or
    `complaint_overdue:<complaint number>` for a complaint."""

    kind: str
    found_at: datetime
    found_by: str
    app: int | None  # index in the chunk's apps
    complaint: int | None  # index in the chunk's complaints
    agency: int | None
    centre: int | None
    person: int | None
    detail: dict[str, Any]
    # detail fields that name a complaint of the chunk (the writer puts in its number)
    numbers: dict[str, int] = field(default_factory=dict)


@dataclass
class FeedbackSummary:
    ratings: int = 0
    ticket_ratings: int = 0
    alerts: int = 0
    complaints: int = 0
    escalated: int = 0
    late_answers: int = 0
    upheld: int = 0
    refunds: int = 0
    violations: dict[str, int] = field(default_factory=dict)


def _actor_fields(actor: Any) -> tuple[int | None, str, str]:
    return actor.pk, actor.username, actor.role


class FeedbackPlanner:
    """Adds ratings, complaints and violations to each chunk (see the module)."""

    def __init__(self, *, info: FeedbackInfo, calendar: WorkingCalendar, seed: int,
                 country: str, now: datetime, alert_share: float, staff: Any,
                 refuse_rates: Mapping[str, float] | None = None) -> None:
        self.info = info
        self.calendar = calendar
        self.zone = calendar.zone
        self.now = now
        self.alert_share = alert_share
        self.staff = staff
        self.rng = random.Random(f"{seed}:{country}:feedback")  # noqa: S311
        self._serials: dict[int, int] = {}
        self._deadlines: dict[tuple[str, Any], datetime] = {}
        self.application_grounds = [g for g, subjects in sorted(info.grounds.items())
                                    if "application" in subjects]

    # --- helpers -----------------------------------------------------------------------

    def _deadline(self, level: str, start: datetime) -> datetime:
        """`feedback.services._deadline`: the level's deadline on the country's calendar."""
        value, unit = self.info.deadlines[level]
        day = start.astimezone(self.zone).date()
        if unit == "working_days":
            key = (level, day)
            found = self._deadlines.get(key)
            if found is None:
                found = self._deadlines[key] = self.calendar.deadline(start, value, unit)
            return found
        if unit == "calendar_days":
            end: time = self.calendar.rules.working_hours[1]
            return datetime.combine(day + timedelta(days=value), end, tzinfo=self.zone)
        return self.calendar.deadline(start, value, unit)

    def _number_slot(self, at: datetime) -> tuple[int, int]:
        year = at.astimezone(self.zone).year
        self._serials[year] = self._serials.get(year, 0) + 1
        return year, self._serials[year]

    def _ground(self, situation: str) -> str | None:
        for code in GROUND_PREFERENCE[situation]:
            if code in self.info.grounds and "application" in self.info.grounds[code]:
                return code
        return None

    def _score(self, base: float, low: bool) -> int:
        value = base + self.rng.gauss(0, 0.7) - (1.2 if low else 0.0)
        return max(1, min(5, round(value)))

    def _scores(self, base: float, *, late: bool, refused: bool) -> dict[str, int]:
        scores: dict[str, int] = {}
        for code in self.info.criteria:
            low = (late and code == "timeliness") or (refused and code == "legality")
            scores[code] = self._score(base, low)
        return scores

    def _rating(self, *, app: int | None, ticket: int | None, agency: int | None,
                centre: int | None, citizen: int | None, channel: str, base: float,
                late: bool, refused: bool, queue: bool, at: datetime) -> PlannedRating:
        rng = self.rng
        scores = self._scores(base, late=late, refused=refused)
        values = list(scores.values())
        mean = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        lowest = min(values)
        comment = ""
        if rng.random() < COMMENT_SHARE * (2.0 if lowest <= 2 else 1.0):
            if lowest <= self.info.alert_at_or_below:
                comment = rng.choice(NEGATIVE_QUEUE if queue else NEGATIVE)
            else:
                comment = rng.choice(POSITIVE)
        threshold = self.info.alert_at_or_below
        alert = lowest <= threshold or (bool(comment) and lowest <= threshold + 1)
        return PlannedRating(app, ticket, agency, centre, citizen, channel, scores, mean,
                             lowest, comment, alert, at)

    # --- one chunk ---------------------------------------------------------------------

    def add(self, chunk: Any) -> None:
        chunk.ratings = []
        chunk.complaints = []
        chunk.violations = []
        if not self.info.criteria and not self.info.grounds:
            return
        decided_by: dict[int, Any] = {}  # app index -> the actor of its outcome
        for event in chunk.events:
            app = chunk.apps[event.app]
            if app.outcome and event.to_state == app.state:
                decided_by[event.app] = event.actor
        for index, app in enumerate(chunk.apps):
            self._application(chunk, index, app, decided_by.get(index))
        for index, ticket in enumerate(chunk.tickets):
            self._ticket(chunk, index, ticket)

    def _application(self, chunk: Any, index: int, app: Any, actor: Any) -> None:
        rng = self.rng
        now = self.now
        completed = app.completed_at
        if completed is None or not app.outcome:
            return
        self._deadline_near(chunk, index, app, completed)
        if app.outcome not in ("issued", "refused") or app.applicant is None:
            return
        refused = app.outcome == "refused"
        # a rating, some time after the result (most the same day or the next)
        if self.info.criteria and rng.random() < RATE_APPLICATION:
            at = completed + timedelta(seconds=int(rng.lognormvariate(9.5, 1.3)))
            if at < now:
                base = 2.2 if refused else (3.0 if app.late else 4.5)
                channel = "notification" if rng.random() < 0.55 else (
                    "portal" if rng.random() < 0.9 else "api")
                chunk.ratings.append(self._rating(
                    app=index, ticket=None, agency=app.agency, centre=app.centre,
                    citizen=app.applicant, channel=channel, base=base, late=app.late,
                    refused=refused, queue=False, at=at,
                ))
        # a complaint
        situation, chance = (
            ("refused", COMPLAIN_REFUSED) if refused
            else ("late", COMPLAIN_LATE) if app.late
            else ("sent_back", COMPLAIN_SENT_BACK) if app.sent_back
            else ("issued", COMPLAIN_ISSUED)
        )
        if not self.info.grounds or "provider" not in self.info.deadlines:
            return
        if rng.random() >= chance:
            return
        ground = self._ground(situation)
        if ground is None:
            return
        registered = completed + timedelta(seconds=rng.randint(3600, 12 * 86400))
        if registered >= now:
            return
        self._complaint(chunk, index, app, ground, registered, actor)

    def _deadline_near(self, chunk: Any, index: int, app: Any, completed: datetime) -> None:
        """The scan's "deadline near", as it found it while the application was open."""
        paused = timedelta(seconds=app.stopped_seconds)
        total = (app.deadline_at - app.submitted_at - paused).total_seconds()
        used = (completed - app.submitted_at - paused).total_seconds()
        share = self.alert_share
        if total <= 0 or used / total < share:
            return
        found = app.submitted_at + paused + timedelta(seconds=math.ceil(total * share))
        if found >= min(self.now, app.deadline_at, completed):
            return
        chunk.violations.append(PlannedViolation(
            kind="deadline_near", found_at=found, found_by="self", app=index, complaint=None,
            agency=app.agency, centre=None, person=app.assigned,
            detail={"application": app.number, "deadline": app.deadline_at.isoformat(),
                    "share_used": round(share, 3), "alert_share": share},
        ))

    def _ticket(self, chunk: Any, index: int, ticket: Any) -> None:
        rng = self.rng
        if ticket.state != "served" or ticket.kind == "no_show" or not self.info.criteria:
            return
        if rng.random() >= RATE_TICKET:
            return
        at = datetime.fromtimestamp(ticket.finished_at + rng.randint(30, 3600), tz=UTC)
        if at >= self.now:
            return
        long_wait = bool(ticket.limit) and ticket.wait_seconds > ticket.limit
        app = chunk.apps[ticket.app] if ticket.app is not None else None
        base = 2.6 if long_wait else 4.4
        if app is not None and app.outcome == "refused":
            base -= 0.6
        # through the receipt's QR code or a kiosk: no sign-in, so no citizen recorded
        chunk.ratings.append(self._rating(
            app=None, ticket=index, agency=app.agency if app is not None else None,
            centre=ticket.centre, citizen=None,
            channel="receipt" if rng.random() < 0.6 else "kiosk", base=base, late=False,
            refused=False, queue=long_wait, at=at,
        ))

    # --- complaints ----------------------------------------------------------------------

    def _handler(self, agency: int) -> Any | None:
        officers = self.staff.officers.get(agency) or ()
        return self.rng.choice(officers) if officers else self.staff.supervisors.get(agency)

    def _complaint(self, chunk: Any, index: int, app: Any, ground: str,
                   registered: datetime, refused_by: Any) -> None:
        """One complaint about the application at `index` and its course (see the
        module); `refused_by`: the actor of the application's outcome."""
        rng = self.rng
        now = self.now
        citizen = app.account
        year, serial = self._number_slot(registered)
        complaint = PlannedComplaint(
            year=year, serial=serial, level="provider", subject="application", ground=ground,
            text=COMPLAINT_TEXTS.get(ground, COMPLAINT_TEXTS["improper_service"]), app=index,
            agency=app.agency, centre=app.centre, citizen=app.applicant, state="registered",
            registered_at=registered, deadline_at=self._deadline("provider", registered),
        )
        chunk.complaints.append(complaint)
        position = len(chunk.complaints) - 1
        complaint.events.append(PlannedComplaintEvent(
            registered, "registered", *_actor_fields(citizen), "",
            {"subject": "application", "ground": ground,
             "deadline": complaint.deadline_at.isoformat()}))
        # given to an officer of the unit by its supervisor, within working hours or so
        supervisor = self.staff.supervisors.get(app.agency)
        handler = self._handler(app.agency)
        assigned = registered + timedelta(seconds=rng.randint(1800, 30 * 3600))
        if handler is None or assigned >= min(now, complaint.deadline_at):
            return
        complaint.handler = handler.pk
        complaint.state = "in_review"
        complaint.events.append(PlannedComplaintEvent(
            assigned, "assigned", *_actor_fields(supervisor or handler), "",
            {"handler": handler.username}))
        # sometimes extended, before the deadline, by up to max_extension_days
        if rng.random() < EXTENDED and self.info.max_extension_days >= 1:
            span = (complaint.deadline_at - assigned).total_seconds()
            at = assigned + timedelta(seconds=int(span * rng.uniform(0.3, 0.9)))
            days = rng.randint(1, min(20, self.info.max_extension_days))
            if at < now:
                complaint.extended_to = complaint.deadline_at + timedelta(days=days)
                complaint.extension_reason = EXTENSION_REASON
                complaint.events.append(PlannedComplaintEvent(
                    at, "extended", *_actor_fields(handler), EXTENSION_REASON,
                    {"days": days, "extended_to": complaint.extended_to.isoformat()}))
        due = complaint.extended_to or complaint.deadline_at
        draw = rng.random()
        if draw < WITHDRAWN:
            at = assigned + (due - assigned) * rng.uniform(0.05, 0.6)
            if at < now:
                complaint.state = "withdrawn"
                complaint.events.append(PlannedComplaintEvent(
                    at, "withdrawn", *_actor_fields(citizen), "", {}))
            return
        if draw < WITHDRAWN + ANSWER_NEVER:
            # nobody answered: the overdue job takes it to the control body
            at = due + timedelta(seconds=rng.randint(600, 20 * 3600))
            if at < now:
                self._escalate(chunk, position, at, None, "overdue", "", refused_by)
            return
        late = draw < WITHDRAWN + ANSWER_NEVER + ANSWER_LATE
        if late:
            at = due + timedelta(seconds=rng.randint(600, 8 * 3600))
        else:
            at = assigned + (due - assigned) * rng.uniform(0.15, 0.97)
        if at >= now:
            return
        decision = self._decision(UPHELD.get(ground, UPHELD_OTHER))
        self._decide(chunk, position, handler, at, decision, refused_by)
        if decision == "rejected" and rng.random() < DISAGREE:
            appeal = at + timedelta(seconds=rng.randint(3600, 10 * 86400))
            if appeal < now:
                self._escalate(chunk, position, appeal, citizen, "disagreed", DISAGREE_REASON,
                               refused_by)

    def _decision(self, odds: tuple[float, float]) -> str:
        draw = self.rng.random()
        return "upheld" if draw < odds[0] else (
            "partly_upheld" if draw < odds[0] + odds[1] else "rejected")

    def _decide(self, chunk: Any, position: int, handler: Any, at: datetime, decision: str,
                refused_by: Any) -> None:
        """`feedback.services.decide`, with the consequences of an upheld refusal."""
        complaint: PlannedComplaint = chunk.complaints[position]
        complaint.state = "decided"
        complaint.decision = decision
        complaint.decision_reason = DECISION_REASONS[decision]
        complaint.decided_at = at
        if complaint.handler is None:
            complaint.handler = handler.pk
        data: dict[str, Any] = {
            "decision": decision, "late": at > (complaint.extended_to or complaint.deadline_at)}
        app = chunk.apps[complaint.app]
        # (one per application: only a rejected complaint goes up on disagreement)
        if decision != "rejected" and complaint.ground == "unjustified_refusal" \
                and app.outcome == "refused":
            flagged = 0
            for payment in chunk.payments:
                if payment.app == complaint.app and payment.status == "paid":
                    payment.status = "refund_due"
                    flagged += 1
            level_control = complaint.level == "control"
            chunk.violations.append(PlannedViolation(
                kind="unjustified_refusal", found_at=at,
                found_by="control" if level_control else "self", app=complaint.app,
                complaint=position, agency=app.agency, centre=app.centre,
                person=refused_by.pk if refused_by is not None else None,
                detail={"decided_by": handler.username, "refusal_ground": app.refusal_ground,
                        "refund_flagged": flagged},
                numbers={"complaint": position},
            ))
            data.update({"refusal_unjustified": True, "refund_flagged": flagged})
        complaint.events.append(PlannedComplaintEvent(
            at, "decided", *_actor_fields(handler), complaint.decision_reason, data))

    def _escalate(self, chunk: Any, position: int, at: datetime, actor: Any, why: str,
                  note: str, refused_by: Any) -> None:
        """`feedback.services._escalate`: the same complaint at the control level."""
        rng = self.rng
        lower: PlannedComplaint = chunk.complaints[position]
        if "control" not in self.info.deadlines:
            return
        lower.state = "escalated"
        year, serial = self._number_slot(at)
        upper = PlannedComplaint(
            year=year, serial=serial, level="control", subject=lower.subject,
            ground=lower.ground, text=lower.text, app=lower.app, agency=lower.agency,
            centre=lower.centre, citizen=lower.citizen, state="registered", registered_at=at,
            deadline_at=self._deadline("control", at), escalated_from=position,
        )
        chunk.complaints.append(upper)
        up = len(chunk.complaints) - 1
        who = _actor_fields(actor) if actor is not None else (None, "system", "system")
        lower.events.append(PlannedComplaintEvent(at, "escalated", *who, note,
                                                  {"why": why, "to": up}))
        upper.events.append(PlannedComplaintEvent(
            at, "registered", *who, note,
            {"why": why, "from": position, "deadline": upper.deadline_at.isoformat()}))
        if why == "overdue":
            app = chunk.apps[lower.app]
            chunk.violations.append(PlannedViolation(
                kind="complaint_overdue", found_at=at, found_by="control", app=lower.app,
                complaint=position, agency=lower.agency, centre=lower.centre,
                person=lower.handler,
                detail={"deadline": (lower.extended_to or lower.deadline_at).isoformat(),
                        "application": app.number},
                numbers={"escalated_to": up},
            ))
        # the control body's answer
        controllers: Sequence[Any] = self.staff.controllers
        if not controllers:
            return
        controller = rng.choice(controllers)
        assigned = at + timedelta(seconds=rng.randint(3600, 2 * 86400))
        if assigned >= min(self.now, upper.deadline_at):
            return
        upper.handler = controller.pk
        upper.state = "in_review"
        upper.events.append(PlannedComplaintEvent(
            assigned, "assigned", *_actor_fields(controller), "",
            {"handler": controller.username}))
        if rng.random() < CONTROL_LATE:
            decided = upper.deadline_at + timedelta(seconds=rng.randint(600, 3 * 86400))
        else:
            decided = assigned + (upper.deadline_at - assigned) * rng.uniform(0.2, 0.95)
        if decided >= self.now:
            return
        self._decide(chunk, up, controller, decided, self._decision(CONTROL_UPHELD),
                     refused_by)

    # --- counts ------------------------------------------------------------------------

    @staticmethod
    def count(summary: FeedbackSummary, chunk: Any) -> None:
        for rating in getattr(chunk, "ratings", ()):
            if rating.ticket is not None:
                summary.ticket_ratings += 1
            else:
                summary.ratings += 1
            summary.alerts += rating.alert
        for complaint in getattr(chunk, "complaints", ()):
            summary.complaints += 1
            summary.escalated += complaint.state == "escalated"
            if complaint.decided_at is not None:
                due = complaint.extended_to or complaint.deadline_at
                summary.late_answers += complaint.decided_at > due
                summary.upheld += complaint.decision in ("upheld", "partly_upheld")
        for violation in getattr(chunk, "violations", ()):
            kinds = summary.violations
            kinds[violation.kind] = kinds.get(violation.kind, 0) + 1
            if violation.kind == "unjustified_refusal":
                summary.refunds += violation.detail.get("refund_flagged", 0) > 0
