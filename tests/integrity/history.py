"""A hand-built event log of the mini pack's country (zz, Asia/Almaty, UTC+5, working
hours 09:00-18:00 local = 04:00-13:00 UTC) in July 2026, with a known slow stage, a known
rework loop and a known inter-agency wait. Every figure the tests expect is worked out
by hand below (week of Monday 13 July 2026: no holiday; 6 July is one).

Birth registration (01010001, MJ-ZAGS, simple_approval; the standard of 2026-03-10:
deadline 1 working day, `id_card` obtainable from a state database):
- p1, p2, p3 (the slow stage): submitted Mon 13 Jul 05:00 UTC, accepted 07:00 (2 h in
  `submitted`), approved Tue 14 Jul 05:00 (22 h in `in_review`, 7 working hours), issued
  Fri 17 Jul 05:00: 72 h in `approved`, working time 8 + 9 + 9 + 1 = 27 h = 3 working
  days. p1 came in at the centre AST-01.
- r1, r2 (the rework loop): submitted Mon 13 Jul 05:00, accepted 07:00, `id_card`
  requested 09:00 (2 h in review), provided Tue 14 Jul 09:00 (24 h waiting on the
  applicant: 4 + 5 = 9 working hours = 1 working day), requested again 11:00 (2 h),
  provided Wed 15 Jul 11:00 (24 h: 2 + 7 = 9 working hours), approved 12:00 (1 h),
  issued 13:00 (1 h in `approved`).
- o1: submitted 30 Jun 05:00 UTC (June, local): outside July.
Job-seeker check (09090001, MLSP, interagency_approval, built here; deadline 5 working
days):
- i1: submitted Mon 13 Jul 05:00, accepted 06:00, MJ-ZAGS asked 07:00, answered Thu 16 Jul
  07:00 (72 h; 6 + 9 + 9 + 3 = 27 working hours = 3 working days, over the state's
  limit of 2), approved 08:00, issued 09:00.
A ticket at AST-01 in group A waited 40 min against the standard's 15: 25 min over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onestop.accounts.models import User
from onestop.applications.models import Application, ApplicationEvent
from onestop.catalogue.models import Agency, Country, Service, ServiceStandard
from onestop.centres.models import Centre, ServiceGroup
from tests.quality import history as quality_history


def t(day: int, hour: int, minute: int = 0, month: int = 7) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Flow:
    country: Country
    zags: Agency
    mlsp: Agency
    birth: Service
    check: Service
    apps: dict[str, Application]


def event(app: Application, at: datetime, action: str, source: str, target: str,
          role: str = "officer", clock: str = "", data: dict[str, Any] | None = None) -> None:
    ApplicationEvent.objects.create(application=app, at=at, action=action,
                                    from_state=source, to_state=target, actor_role=role,
                                    clock=clock, data=data or {})


def _app(country: Country, service: Service, submitted: datetime, completed: datetime,
         *, centre: Centre | None = None, by: User | None = None) -> Application:
    app = quality_history.application(
        country, service, submitted=submitted, deadline=t(31, 13), completed=completed,
        outcome="issued", channel="centre" if centre else "portal", centre=centre, by=by)
    event(app, submitted, "submit", "", "submitted", role="citizen")
    return app


def interagency_service(country: Country) -> Service:
    mlsp = Agency.objects.get(country=country, code="MLSP")
    service = Service.objects.create(country=country, code="09090001", provider=mlsp,
                                     workflow="interagency_approval")
    ServiceStandard.objects.create(
        service=service, valid_from=datetime(2024, 1, 1).date(),
        name={"en": "Job-seeker check"}, channels=["portal"], deadline_value=5,
        deadline_unit="working_days", form="electronic", result={"en": "A certificate"},
        documents=[])
    return service


def build(country: Country, operator: User | None = None) -> Flow:
    birth = Service.objects.get(country=country, code="01010001")
    check = interagency_service(country)
    centre = Centre.objects.get(country=country, code="AST-01")
    apps: dict[str, Application] = {}
    for name in ("p1", "p2", "p3"):
        app = _app(country, birth, t(13, 5), t(17, 5),
                   centre=centre if name == "p1" else None,
                   by=operator if name == "p1" else None)
        event(app, t(13, 7), "accept", "submitted", "in_review")
        event(app, t(14, 5), "approve", "in_review", "approved")
        event(app, t(17, 5), "issue", "approved", "issued")
        apps[name] = app
    for name in ("r1", "r2"):
        app = _app(country, birth, t(13, 5), t(15, 13))
        event(app, t(13, 7), "accept", "submitted", "in_review")
        event(app, t(13, 9), "request_documents", "in_review", "awaiting_applicant",
              clock="stop", data={"requested_documents": ["id_card"]})
        event(app, t(14, 9), "provide_documents", "awaiting_applicant", "in_review",
              role="citizen", clock="resume", data={"documents": ["id_card"]})
        event(app, t(14, 11), "request_documents", "in_review", "awaiting_applicant",
              clock="stop", data={"requested_documents": ["id_card"]})
        event(app, t(15, 11), "provide_documents", "awaiting_applicant", "in_review",
              role="citizen", clock="resume", data={"documents": ["id_card"]})
        event(app, t(15, 12), "approve", "in_review", "approved")
        event(app, t(15, 13), "issue", "approved", "issued")
        apps[name] = app
    o1 = _app(country, birth, t(30, 5, month=6), t(1, 5))
    event(o1, t(30, 7, month=6), "accept", "submitted", "in_review")
    event(o1, t(1, 5), "approve", "in_review", "approved")
    event(o1, t(1, 6), "issue", "approved", "issued")
    apps["o1"] = o1
    i1 = _app(country, check, t(13, 5), t(16, 9))
    event(i1, t(13, 6), "accept", "submitted", "in_review")
    event(i1, t(13, 7), "request_agency", "in_review", "awaiting_agency",
          data={"agency": "MJ-ZAGS"})
    event(i1, t(16, 7), "agency_answer", "awaiting_agency", "in_review", role="system")
    event(i1, t(16, 8), "approve", "in_review", "approved")
    event(i1, t(16, 9), "issue", "approved", "issued")
    apps["i1"] = i1
    group_a = ServiceGroup.objects.get(country=country, code="A")
    quality_history.ticket(centre, group_a, state="served", issued=t(13, 4),
                           finished=t(13, 5), wait=2400, operator=operator)
    quality_history.ticket(centre, group_a, state="served", issued=t(13, 4),
                           finished=t(13, 5), wait=300, operator=operator)
    return Flow(country, birth.provider, check.provider, birth, check, apps)


def as_of() -> datetime:
    return datetime(2026, 8, 15, tzinfo=UTC)
