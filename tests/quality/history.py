"""A small hand-built history of the mini pack's country (zz) in 2026-Q3, written straight
through the ORM, whose indicator values are worked out by hand in the tests.

zz runs on Asia/Almaty (UTC+5): 2026-Q3 is [2026-06-30 19:00 UTC, 2026-09-30 19:00 UTC).

Civil registry (MJ-ZAGS, service 01010001):
- z1..z8: portal, finished (issued) 07-08, deadline 07-10: on time
- z9: at the centre by op1, issued 07-15, deadline 07-10: LATE
- z10: at the centre by op1, deadline 07-10 moved to 07-16 by a clock stop (07-05 to
  07-09, events recorded and `deadline_at` rewritten as the service does), refused 07-15:
  on time; its refusal is overturned (complaint c1 upheld)
- z11: portal, submitted and finished late in June (Q2): outside the period
- z12: portal, submitted 07-02, withdrawn 07-20: not finished (withdrawn is no outcome
  of the methodology's `finished_outcomes`)
- z13: at the centre by op1, submitted 07-03, still open past its deadline: not finished
Social ministry (MLSP, service 02020001, instant):
- m1..m4: API, issued within the 10 minutes; m5: API, refused in time (the complaint on
  it, c5, is rejected)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from onestop.accounts.models import User
from onestop.applications.models import Application, ApplicationEvent
from onestop.catalogue.models import Agency, Country, Service
from onestop.centres.models import Centre, ServiceGroup, Ticket
from onestop.control.models import Violation
from onestop.feedback.models import Complaint, Rating

_numbers = itertools.count(1)
ALMATY = ZoneInfo("Asia/Almaty")


def at(month: int, day: int, hour: int = 6, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def jul(day: int, hour: int = 6, minute: int = 0) -> datetime:
    return at(7, day, hour, minute)


def application(country: Country, service: Service, *, channel: str = "portal",
                submitted: datetime, deadline: datetime, completed: datetime | None = None,
                outcome: str = "", stopped_at: datetime | None = None,
                centre: Centre | None = None, by: User | None = None) -> Application:
    standard = service.versions.order_by("-valid_from").first()
    assert standard is not None
    return Application.objects.create(
        number=f"T-{next(_numbers):06d}", country=country, service=service,
        standard=standard, workflow=service.workflow,
        state=outcome or "submitted", channel=channel,
        applicant_national_id="900101300011", agency=service.provider,
        centre=centre, region=centre.region if centre else None, submitted_by=by,
        submitted_at=submitted, deadline_at=deadline, completed_at=completed,
        outcome=outcome, clock_stopped_at=stopped_at,
    )


def rating(app: Application | None, scores: dict[str, int], created: datetime, *,
           ticket: Ticket | None = None) -> Rating:
    values = list(scores.values())
    return Rating.objects.create(
        country=(app.country if app else ticket.centre.country),  # type: ignore[union-attr]
        application=app, ticket=ticket,
        agency=app.agency if app else None,
        centre=app.centre if app else (ticket.centre if ticket else None),
        channel="portal", scores=scores,
        mean=Decimal(sum(values)) / len(values), lowest=min(values),
        created_at=created, updated_at=created,
    )


def complaint(app: Application, ground: str, *, registered: datetime, deadline: datetime,
              decided: datetime | None = None, decision: str = "",
              extended_to: datetime | None = None, level: str = "provider") -> Complaint:
    return Complaint.objects.create(
        number=f"C-{next(_numbers):06d}", country=app.country, level=level,
        subject="application", ground=ground, text="a complaint", application=app,
        agency=app.agency, centre=app.centre, registered_at=registered, deadline_at=deadline,
        extended_to=extended_to, decided_at=decided, decision=decision,
        state="decided" if decision else "registered",
    )


def violation(country: Country, agency: Agency | None, *, found: datetime, found_by: str,
              kind: str = "deadline_missed", app: Application | None = None,
              centre: Centre | None = None, person: User | None = None) -> Violation:
    return Violation.objects.create(
        country=country, kind=kind, key=f"test:{next(_numbers)}", found_at=found,
        found_by=found_by, application=app, agency=agency, centre=centre, person=person,
    )


def ticket(centre: Centre, group: ServiceGroup, *, state: str, issued: datetime,
           finished: datetime | None, wait: int | None, operator: User | None) -> Ticket:
    sequence = next(_numbers)
    return Ticket.objects.create(
        centre=centre, group=group, day=issued.date(), sequence=sequence,
        number=f"{group.code}-{sequence:03d}", source="kiosk", state=state,
        issued_at=issued, place_at=issued, finished_at=finished, wait_seconds=wait,
        operator=operator,
    )


@dataclass
class History:
    country: Country
    zags: Agency
    mlsp: Agency
    centre: Centre
    op1: User
    op2: User
    apps: dict[str, Application]


def build(country: Country, op1: User, op2: User) -> History:
    zags_service = Service.objects.get(country=country, code="01010001")
    mlsp_service = Service.objects.get(country=country, code="02020001")
    centre = Centre.objects.get(country=country, code="AST-01")
    apps: dict[str, Application] = {}
    for i in range(1, 9):
        apps[f"z{i}"] = application(country, zags_service, submitted=jul(1), deadline=jul(10),
                                    completed=jul(8), outcome="issued")
    apps["z9"] = application(country, zags_service, channel="centre", centre=centre, by=op1,
                             submitted=jul(1), deadline=jul(10), completed=jul(15),
                             outcome="issued")
    z10 = application(country, zags_service, channel="centre", centre=centre, by=op1,
                      submitted=jul(1), deadline=jul(16), completed=jul(15),
                      outcome="refused")
    for moment, clock in ((jul(5), "stop"), (jul(9), "resume")):
        ApplicationEvent.objects.create(application=z10, at=moment, action=clock,
                                        to_state="x", actor_role="officer", clock=clock)
    apps["z10"] = z10
    apps["z11"] = application(country, zags_service, submitted=at(6, 10), deadline=at(6, 20),
                              completed=at(6, 29), outcome="issued")
    apps["z12"] = application(country, zags_service, submitted=jul(2), deadline=jul(10),
                              completed=jul(20), outcome="withdrawn")
    apps["z13"] = application(country, zags_service, channel="centre", centre=centre, by=op1,
                              submitted=jul(3), deadline=jul(12))
    for i in range(1, 5):
        apps[f"m{i}"] = application(country, mlsp_service, channel="api",
                                    submitted=jul(2, 5), deadline=jul(2, 5, 10),
                                    completed=jul(2, 5, 5), outcome="issued")
    apps["m5"] = application(country, mlsp_service, channel="api", submitted=jul(3, 5),
                             deadline=jul(3, 5, 10), completed=jul(3, 5, 5), outcome="refused")

    # ratings
    rating(apps["z1"], {"legality": 5, "timeliness": 4}, jul(9))
    rating(apps["z2"], {"legality": 3, "timeliness": 5}, jul(9))
    rating(apps["z9"], {"legality": 4, "timeliness": 2}, jul(16))
    rating(apps["z10"], {"legality": 1, "timeliness": 1}, jul(16))
    rating(apps["z11"], {"legality": 5, "timeliness": 5}, at(6, 29, 10))  # Q2: outside
    rating(apps["m1"], {"legality": 5, "timeliness": 5}, jul(3))
    rating(apps["m2"], {"legality": 4, "timeliness": 3}, jul(3))

    # complaints to the provider
    complaint(apps["z10"], "unjustified_refusal", registered=jul(16), deadline=jul(23),
              decided=jul(20), decision="upheld")  # c1: in time, upheld
    complaint(apps["z9"], "missed_deadline", registered=jul(16), deadline=jul(23),
              decided=jul(25), decision="rejected")  # c2: late
    complaint(apps["z1"], "missed_deadline", registered=jul(17), deadline=jul(24),
              extended_to=jul(31), decided=jul(30), decision="rejected")  # c3: in time
    complaint(apps["z2"], "missed_deadline", registered=jul(20), deadline=jul(27))  # c4: open
    complaint(apps["m5"], "unjustified_refusal", registered=jul(4), deadline=jul(11),
              decided=jul(8), decision="rejected")  # c5

    # violations
    zags, mlsp = zags_service.provider, mlsp_service.provider
    violation(country, zags, found=jul(11), found_by="control", app=apps["z9"])
    violation(country, zags, found=jul(12), found_by="self", kind="extra_documents",
              app=apps["z10"])
    violation(country, zags, found=jul(13), found_by="self", kind="stage_overdue",
              app=apps["z12"])
    violation(country, zags, found=at(6, 25), found_by="control", app=apps["z11"])  # Q2

    # tickets at AST-01: group A (service 01...) and B (the default group: 02...)
    group_a = ServiceGroup.objects.get(country=country, code="A")
    group_b = ServiceGroup.objects.get(country=country, code="B")
    ticket(centre, group_a, state="served", issued=jul(6, 4), finished=jul(6, 5),
           wait=600, operator=op1)  # 10 min: within
    ticket(centre, group_a, state="served", issued=jul(6, 4), finished=jul(6, 6),
           wait=2400, operator=op1)  # 40 min: over
    ticket(centre, group_b, state="served", issued=jul(6, 4), finished=jul(6, 5),
           wait=300, operator=op2)  # 5 min: within
    ticket(centre, group_a, state="no_show", issued=jul(6, 4), finished=jul(6, 5),
           wait=None, operator=op1)  # not served
    ticket(centre, group_a, state="served", issued=at(6, 20, 4), finished=at(6, 20, 5),
           wait=60, operator=op1)  # Q2: outside
    return History(country, zags, mlsp, centre, op1, op2, apps)


def as_of() -> datetime:
    return datetime(2026, 10, 15, tzinfo=UTC)


def day(value: str) -> date:
    return date.fromisoformat(value)


def counts_subset(counts: dict[str, float], names: list[str]) -> dict[str, Any]:
    return {name: counts.get(name, 0.0) for name in names}
