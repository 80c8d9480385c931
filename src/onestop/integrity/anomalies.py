"""Known misconduct injected into a generated history: the ground truth of the red flags.

`inject(country, period, seed)` runs after `onestop demo` has written its history. For
each of the twelve flags it picks (or, where the history has too few peers, creates) a
few subjects and writes, in bulk, the records of one pattern of misconduct inside the
period: an officer who refuses far more often than colleagues on the same service, one
who refuses and then approves the same people, one whose refusals are overturned on
complaint, one who decides at the deadline or stops the clock again and again, an
operator who calls favoured tickets ahead of older ones, a citizen account that hoards
appointment slots, an intermediary filing for many people, an operator who rubber-stamps
in seconds, an officer deciding at night, a device that rates one centre 5 in bursts, a
centre drawing complaints, and an officer who asks for documents outside the standard.

Application events are append-only, so the patterns are new applications with their
events (their `demo_batch` is the injection's, so `onestop demo --replace` deletes them;
`planted_flag` names the flag; their form data is empty); tickets, ratings, complaints
and appointments are inserted or, for the counter times, updated.
The ground truth (subjects and the ids of the records per flag) is returned and written
as JSON by the command.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from onestop.accounts.models import User
from onestop.applications.models import Application, ApplicationEvent
from onestop.catalogue.models import Country, Service
from onestop.centres.models import Appointment, Counter, Ticket
from onestop.demo.generator import Actor, _officer_factor
from onestop.feedback.models import Complaint, Rating
from onestop.integrity.flags_config import FLAG_CODES
from onestop.quality.services import AssessmentError, period_bounds

SUBJECTS_PER_FLAG = 2
REFUSAL_PATTERNS = ("refusal_rate", "refuse_then_approve", "overturned_refusals")
UNUSABLE_PASSWORD = "!demo-account"  # noqa: S105 (Django's mark of an unusable password)
EXTRA_DOCUMENT = "certificate_of_good_standing"  # asked for, though no standard lists it


class AnomalyError(Exception):
    """The history cannot take the anomalies (too small, no period); says why."""


@dataclass
class Truth:
    """Per flag: the subjects that misbehave and the records of their misconduct."""

    country: str
    period: str
    seed: int
    flags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, flag: str, kind: str, subject: int, evidence: dict[str, list[int]]) -> None:
        self.flags.setdefault(flag, []).append(
            {"kind": kind, "id": subject, "evidence": {k: sorted(v) for k, v in evidence.items()}})

    known: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"country": self.country, "period": self.period, "seed": self.seed,
                "flags": self.flags, "known": self.known}


class _Injector:
    def __init__(self, country: Country, period: str, seed: int) -> None:
        self.country = country
        self.zone = ZoneInfo(country.time_zone)
        try:
            self.start, self.end = period_bounds(period, self.zone)
        except AssessmentError as exc:
            raise AnomalyError(str(exc)) from None
        self.rng = random.Random(seed)  # noqa: S311 (a reproducible history, not secrets)
        self.truth = Truth(country.code, period, seed)
        self.batch = f"{country.code}-anomalies-seed{seed}"
        self.serial = 0
        self.used: set[int] = set()
        self.used_centres: set[int] = set()
        self.services_of: dict[str, set[int]] = {}
        self.natural: dict[int, list[tuple[dt.datetime, dt.datetime, dt.datetime, str]]] = {}
        self.days = self._working_days()
        if len(self.days) < 10:
            raise AnomalyError(f"period {period} has too few working days for the anomalies")
        self.citizens = list(User.objects.filter(role="citizen", username__startswith=(
            f"{country.code}-demo-citizen")).values_list("pk", flat=True)[:5000])
        if len(self.citizens) < 4 * SUBJECTS_PER_FLAG:
            raise AnomalyError(f"{country.code} has no demo history: run `onestop demo` first")

    # ---------------------------------------------------------------- time and numbers

    def _working_days(self) -> list[dt.date]:
        first = self.start.astimezone(self.zone).date()
        last = (self.end - dt.timedelta(seconds=1)).astimezone(self.zone).date()
        days, day = [], first
        while day <= last:
            if day.weekday() < 5:
                days.append(day)
            day += dt.timedelta(days=1)
        # keep clear of the period's edges: the patterns fit inside it
        return days[3:-8] if len(days) > 20 else days

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone
                           ).astimezone(dt.UTC)

    def day(self) -> dt.date:
        return self.rng.choice(self.days)

    def number(self) -> str:
        self.serial += 1
        token = "".join(self.rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(6))
        return f"{self.country.code.upper()}-X{self.serial:05d}-{token}"

    def national_id(self) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(12))

    # ---------------------------------------------------------------- subjects

    def officer_on_busy_service(self, flag: str) -> tuple[User, Service]:
        """A new officer of the unit of a busy service that other officers decide too
        (so there are peers), a service no other subject of this flag works on."""
        decided = (ApplicationEvent.objects
                   .filter(application__country=self.country, action__in=("approve", "refuse"),
                           actor_role="officer", at__gte=self.start, at__lt=self.end)
                   .values("application__service", "actor")
                   .annotate(n=Count("pk")).order_by("-n"))
        per_service: dict[int, list[int]] = {}
        volume: Tally[int] = Tally()
        for row in decided:
            per_service.setdefault(row["application__service"], []).append(row["actor"])
            volume[row["application__service"]] += row["n"]
        taken = self.services_of.setdefault("officers", set())  # one service per officer
        free = [s for s, _ in volume.most_common() if s not in taken]
        if not free:
            raise AnomalyError("the history has too few services with decisions")
        # a new officer of the unit, so that the pattern is not diluted by (or mixed
        # with) an existing officer's own record; on a service with two officers or more
        busy = [sid for sid in free if volume[sid] >= 30]
        with_peers = [sid for sid in busy if len(per_service[sid]) >= 2]
        free = with_peers or busy or free
        if flag in REFUSAL_PATTERNS:  # where refusals are rare, as in most services
            refused: Tally[int] = Tally()
            for row in (ApplicationEvent.objects
                        .filter(application__country=self.country, action="refuse",
                                actor_role="officer", at__gte=self.start, at__lt=self.end)
                        .values("application__service").annotate(n=Count("pk"))
                        .order_by()):
                refused[row["application__service"]] = row["n"]
            rare = [sid for sid in free if refused[sid] <= 0.15 * volume[sid]]
            free = rare or free
        if flag == "extra_documents":
            # the flag's cases are requests for documents: its peers on a service are the
            # officers who ask for documents there, so the pattern goes where some do
            asking = dict(ApplicationEvent.objects
                          .filter(application__country=self.country,
                                  action="request_documents", actor_role="officer",
                                  at__gte=self.start, at__lt=self.end)
                          .values("application__service")
                          .annotate(n=Count("actor", distinct=True))
                          .values_list("application__service", "n").order_by())
            free = [sid for sid in free if asking.get(sid, 0) >= 1] or free
        if flag == "deadline_riding":  # where decisions close to the deadline are rare
            calm = [sid for sid in free[:20] if self.riding_share(sid) <= 0.4]
            free = calm or free
        service_id = free[0]
        taken.add(service_id)
        service = Service.objects.get(pk=service_id)
        agency = Application.objects.filter(service=service).select_related("agency").first()
        assert agency is not None  # the service has decisions, so applications
        self.serial += 1
        officer, _ = User.objects.get_or_create(
            username=f"{self.country.code}-demo-{agency.agency.code}-officer-x{self.serial:02d}"
            .lower(), defaults={"role": "officer", "agency": agency.agency,
                                "password": UNUSABLE_PASSWORD})
        self.used.add(officer.pk)
        return officer, service

    # ---------------------------------------------------------------- applications

    def applications(self, service: Service, officer: User, plans: Iterable[dict[str, Any]]
                     ) -> list[Application]:
        """Applications of `service` decided by `officer`, one per plan: submitted on
        `day`, decided (`decision`: approve or refuse, None for none) at `decided_at`,
        `stops` documents requests with `codes`, the deadline `deadline_at`."""
        template = Application.objects.filter(service=service).order_by("pk").first()
        if template is None:
            raise AnomalyError(f"service {service.code} has no applications to copy")
        standard = template.standard
        apps, events = [], []
        for plan in plans:
            submitted = plan["submitted_at"]
            decided = plan.get("decided_at")
            decision = plan.get("decision")
            outcome = {"approve": "issued", "refuse": "refused"}.get(decision or "", "")
            app = Application(
                number=self.number(), country=self.country, service=service,
                standard=standard, workflow=template.workflow,
                state=outcome or "submitted", channel=plan.get("channel", "portal"),
                applicant_id=plan.get("applicant"), applicant_national_id=plan.get(
                    "national_id") or self.national_id(),
                demo_batch=self.batch, planted_flag=plan["flag"],
                submitted_by_id=plan.get("submitted_by", plan.get("applicant")),
                region=template.region, agency=template.agency,
                assigned_to=officer if decision else None, submitted_at=submitted,
                deadline_at=plan.get("deadline_at") or submitted + dt.timedelta(days=14),
                completed_at=decided if decision else None, outcome=outcome,
                refusal_ground="other" if decision == "refuse" else "",
            )
            apps.append((app, plan))
        created = Application.objects.bulk_create([a for a, _ in apps])
        for app, (_, plan) in zip(created, apps, strict=True):
            submitted, decision = plan["submitted_at"], plan.get("decision")
            ev = [ApplicationEvent(application=app, at=submitted, action="submit",
                                   to_state="submitted", actor_id=app.submitted_by_id,
                                   actor_role="citizen", data={"channel": app.channel})]
            if decision:
                moment = submitted + dt.timedelta(hours=2)
                ev.append(ApplicationEvent(application=app, at=moment, action="accept",
                                           from_state="submitted", to_state="in_review",
                                           actor=officer, actor_role="officer"))
                requests = plan.get("requests", [])
                if requests:  # just before the decision, inside the period with it
                    moment = max(moment, plan["decided_at"] - dt.timedelta(
                        hours=4 * len(requests) + 1))
                for codes in requests:
                    moment += dt.timedelta(hours=3)
                    ev.append(ApplicationEvent(
                        application=app, at=moment, action="request_documents",
                        from_state="in_review", to_state="awaiting_applicant", actor=officer,
                        actor_role="officer", clock="stop",
                        data={"requested_documents": codes}))
                    moment += dt.timedelta(hours=1)
                    ev.append(ApplicationEvent(
                        application=app, at=moment, action="provide_documents",
                        from_state="awaiting_applicant", to_state="in_review",
                        actor_id=app.applicant_id, actor_role="citizen", clock="resume"))
                ev.append(ApplicationEvent(
                    application=app, at=plan["decided_at"], action=decision,
                    from_state="in_review",
                    to_state="approved" if decision == "approve" else "refused",
                    actor=officer, actor_role="officer",
                    data={"ground": "other"} if decision == "refuse" else {}))
                if decision == "approve":
                    ev.append(ApplicationEvent(
                        application=app, at=plan["decided_at"] + dt.timedelta(minutes=5),
                        action="issue", from_state="approved", to_state="issued",
                        actor_role="system"))
            events.extend(ev)
        ApplicationEvent.objects.bulk_create(events)
        return created

    def riding_share(self, service_id: int) -> float:
        """The share of the service's decisions in the period taken within a day of the
        deadline."""
        rows = list(ApplicationEvent.objects.filter(
            application__service_id=service_id, action__in=("approve", "refuse"),
            actor_role="officer", at__gte=self.start, at__lt=self.end)
            .values_list("at", "application__deadline_at")[:2000])
        close = sum(1 for at, deadline in rows
                    if dt.timedelta(0) <= deadline - at <= dt.timedelta(days=1))
        return close / len(rows) if rows else 1.0

    def clean(self, flag: str, service: Service, decision: str | None = None
              ) -> dict[str, Any]:
        """An ordinary case: the submission, decision and deadline times and the decision
        (unless `decision` is given) of a real decision on the service in the period, so
        the pattern's officer differs from peers only in the pattern."""
        if service.pk not in self.natural:
            self.natural[service.pk] = list(
                ApplicationEvent.objects.filter(
                    application__service=service, action__in=("approve", "refuse"),
                    actor_role="officer", at__gte=self.start, at__lt=self.end)
                .filter(application__planted_flag="")
                .values_list("application__submitted_at", "at", "application__deadline_at",
                             "action")
                .order_by("pk")[:2000])
        if not self.natural[service.pk]:
            return self.plan(flag, decision=decision or "approve")
        submitted, decided, deadline, action = self.rng.choice(self.natural[service.pk])
        return {"flag": flag, "submitted_at": submitted, "decided_at": decided,
                "decision": decision or action, "deadline_at": deadline}

    @staticmethod
    def next_working_day(day: dt.date, days: int = 1) -> dt.date:
        for _ in range(days):
            day += dt.timedelta(days=1)
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
        return day

    def plan(self, flag: str, *, decision: str | None = "approve", hour: int = 11,
             **extra: Any) -> dict[str, Any]:
        day = self.day()
        submitted = self.at(day, 10, self.rng.randrange(60))
        decided = self.at(self.next_working_day(day), hour, self.rng.randrange(60))
        return {"flag": flag, "submitted_at": submitted, "decided_at": decided,
                "decision": decision, **extra}

    # ---------------------------------------------------------------- the patterns

    def refusal_rate(self) -> None:
        for _ in range(SUBJECTS_PER_FLAG):
            officer, service = self.officer_on_busy_service("refusal_rate")
            plans = [self.clean("refusal_rate", service, "refuse") for _ in range(18)] + \
                [self.clean("refusal_rate", service) for _ in range(12)]
            apps = self.applications(service, officer, plans)
            self.truth.add("refusal_rate", "officer", officer.pk,
                           {"applications": [a.pk for a in apps if a.outcome == "refused"]})

    def refuse_then_approve(self) -> None:
        for _ in range(SUBJECTS_PER_FLAG):
            officer, service = self.officer_on_busy_service("refuse_then_approve")
            first, second = [], []
            for _ in range(12):
                nid = self.national_id()
                refused = self.plan("refuse_then_approve", decision="refuse", national_id=nid)
                refused_on = refused["decided_at"].astimezone(self.zone).date()
                back = self.next_working_day(refused_on, 2)
                again = dict(refused, decision="approve", submitted_at=self.at(back, 10),
                             decided_at=self.at(self.next_working_day(back), 11))
                first.append(refused)
                second.append(again)
            clean = [self.clean("refuse_then_approve", service) for _ in range(80)]
            refused_apps = self.applications(service, officer, first)
            approved_apps = self.applications(service, officer, second)
            self.applications(service, officer, clean)
            self.truth.add("refuse_then_approve", "officer", officer.pk, {
                "applications": [a.pk for a in refused_apps + approved_apps]})

    def overturned_refusals(self) -> None:
        for _ in range(SUBJECTS_PER_FLAG):
            officer, service = self.officer_on_busy_service("overturned_refusals")
            refused = self.applications(service, officer, [
                self.clean("overturned_refusals", service, "refuse") for _ in range(10)])
            self.applications(service, officer, [
                self.clean("overturned_refusals", service) for _ in range(110)])
            complaints = []
            for app in refused:
                assert app.completed_at is not None  # refused above
                complaints.append(self.complaint(
                    app.completed_at + dt.timedelta(days=2), application=app,
                    agency_id=app.agency_id, staff=officer,
                    decided=app.completed_at + dt.timedelta(days=9)))
            Complaint.objects.bulk_create(complaints)
            self.truth.add("overturned_refusals", "officer", officer.pk, {
                "applications": [a.pk for a in refused]})

    def deadline_riding(self) -> None:
        for _ in range(SUBJECTS_PER_FLAG):
            officer, service = self.officer_on_busy_service("deadline_riding")
            riding = []
            for _ in range(80):
                plan = self.clean("deadline_riding", service)
                plan["deadline_at"] = plan["decided_at"] + dt.timedelta(hours=5)
                riding.append(plan)
            codes = [self.listed_code(service)]
            riding += [dict(self.clean("deadline_riding", service), requests=[codes, codes])
                       for _ in range(10)]
            apps = self.applications(service, officer, riding)
            self.truth.add("deadline_riding", "officer", officer.pk,
                           {"applications": [a.pk for a in apps]})

    def off_hours(self) -> None:
        for _ in range(SUBJECTS_PER_FLAG):
            officer, service = self.officer_on_busy_service("off_hours")
            night = []
            for _ in range(20):
                plan = self.clean("off_hours", service)
                day = plan["decided_at"].astimezone(self.zone).date()
                plan["decided_at"] = self.at(day, self.rng.choice((21, 22, 23)),
                                             self.rng.randrange(60))
                night.append(plan)
            apps = self.applications(service, officer, night)
            self.applications(service, officer, [self.clean("off_hours", service)
                                                 for _ in range(20)])
            self.truth.add("off_hours", "officer", officer.pk,
                           {"applications": [a.pk for a in apps]})

    def listed_code(self, service: Service) -> str:
        template = Application.objects.filter(service=service).select_related("standard").first()
        documents = template.standard.documents if template else []
        return str(documents[0]["code"]) if documents else "application"

    def extra_documents(self) -> None:
        for _ in range(SUBJECTS_PER_FLAG):
            officer, service = self.officer_on_busy_service("extra_documents")
            extra = self.applications(service, officer, [
                dict(self.clean("extra_documents", service), requests=[[EXTRA_DOCUMENT]])
                for _ in range(15)])
            listed = [self.listed_code(service)]
            self.applications(service, officer, [
                dict(self.clean("extra_documents", service), requests=[listed])
                for _ in range(15)])
            self.truth.add("extra_documents", "officer", officer.pk,
                           {"applications": [a.pk for a in extra]})

    def intermediary(self) -> None:
        service = (Service.objects.filter(applications__country=self.country)
                   .annotate(n=Count("applications")).order_by("-n").first())
        if service is None:
            raise AnomalyError("no applications in the history")
        for _ in range(SUBJECTS_PER_FLAG):
            filer = self.citizen()
            apps = self.applications(service, User(), [
                self.plan("intermediary", decision=None, submitted_by=filer,
                          applicant=None) for _ in range(15)])
            self.truth.add("intermediary", "citizen", filer, {"applications": [a.pk for a in apps]})

    def citizen(self) -> int:
        while True:
            pk = self.rng.choice(self.citizens)
            if pk not in self.used:
                self.used.add(pk)
                return pk

    # ---------------------------------------------------------------- centres

    def _busy_operators(self) -> list[tuple[int, int, int]]:
        """(operator, centre, group) with the most calls in the period, busiest first."""
        rows = (Ticket.objects.filter(centre__country=self.country, operator__isnull=False,
                                      called_at__gte=self.start, called_at__lt=self.end)
                .values("operator", "centre", "group").annotate(n=Count("pk")).order_by("-n"))
        return [(r["operator"], r["centre"], r["group"]) for r in rows]

    def out_of_order(self) -> None:
        done = 0
        for operator, centre, group in self._busy_operators():
            if done == SUBJECTS_PER_FLAG:
                break
            if operator in self.used:
                continue
            busy_days = set(Ticket.objects.filter(centre_id=centre, group_id=group)
                            .values_list("day", flat=True))
            free = [d for d in self.days if d not in busy_days]
            if len(free) < 4:
                continue
            counter = Counter.objects.filter(centre_id=centre).order_by("number").first()
            other = (Ticket.objects.filter(centre_id=centre, operator__isnull=False)
                     .exclude(operator=operator).values_list("operator", flat=True).first())
            self.used.add(operator)
            favoured: list[Ticket] = []
            for day in self.rng.sample(free, 4):
                rows = []
                for k in range(12):  # six waiting, then six favoured called first
                    issued = self.at(day, 10, 2 * k)
                    is_favoured = k >= 6
                    called = self.at(day, 10, 14 + (k - 6) * 2) if is_favoured else \
                        self.at(day, 10, 30 + 3 * k)
                    rows.append(Ticket(
                        centre_id=centre, group_id=group, day=day, sequence=900 + k,
                        number=f"X-{900 + k}", source="kiosk", priority_rank=0,
                        state="served", issued_at=issued, place_at=issued, counter=counter,
                        operator_id=operator if is_favoured else (other or operator),
                        called_at=called, finished_at=called + dt.timedelta(minutes=2),
                        wait_seconds=int((called - issued).total_seconds()),
                        service_seconds=120))
                created = Ticket.objects.bulk_create(rows)
                favoured += created[6:]
            self.truth.add("out_of_order", "operator", operator,
                           {"tickets": [t.pk for t in favoured]})
            done += 1

    def counter_time(self) -> None:
        done = 0
        for operator, centre, group in self._busy_operators():
            if done == SUBJECTS_PER_FLAG:
                break
            if operator in self.used:
                continue
            self.used.add(operator)
            tickets = list(Ticket.objects.filter(
                operator_id=operator, service_seconds__isnull=False, called_at__isnull=False,
                finished_at__gte=self.start, finished_at__lt=self.end))
            for ticket in tickets:
                assert ticket.called_at is not None  # filtered above
                seconds = self.rng.randrange(15, 45)
                ticket.service_seconds = seconds
                ticket.finished_at = ticket.called_at + dt.timedelta(seconds=seconds)
            Ticket.objects.bulk_update(tickets, ["service_seconds", "finished_at"])
            in_group = sum(1 for t in tickets if t.group_id == group and t.centre_id == centre)
            if in_group < 15:  # a small history: more rubber-stamped visits in the group
                tickets += self.served_in_order(operator, centre, group, 15 - in_group)
            self.truth.add("counter_time", "operator", operator,
                           {"tickets": [t.pk for t in tickets]})
            done += 1

    def served_in_order(self, operator: int, centre: int, group: int, count: int
                        ) -> list[Ticket]:
        """`count` tickets served in turn in seconds by `operator`, on days when the
        queue of the group at the centre was otherwise empty."""
        busy_days = set(Ticket.objects.filter(centre_id=centre, group_id=group)
                        .values_list("day", flat=True))
        free = [d for d in self.days if d not in busy_days] or self.days
        counter = Counter.objects.filter(centre_id=centre).order_by("number").first()
        rows = []
        for k in range(count):
            day = free[k % len(free)]
            issued = self.at(day, 15, k % 50)
            seconds = self.rng.randrange(15, 45)
            rows.append(Ticket(
                centre_id=centre, group_id=group, day=day, sequence=950 + k,
                number=f"X-{950 + k}", source="kiosk", priority_rank=0, state="served",
                issued_at=issued, place_at=issued, counter=counter, operator_id=operator,
                called_at=issued + dt.timedelta(minutes=1),
                finished_at=issued + dt.timedelta(minutes=1, seconds=seconds),
                wait_seconds=60, service_seconds=seconds))
        return Ticket.objects.bulk_create(rows)

    def slot_hoarding(self) -> None:
        place = (Appointment.objects.filter(centre__country=self.country,
                                            slot_start__gte=self.start, slot_start__lt=self.end)
                 .values("centre", "group").annotate(n=Count("pk")).order_by("-n").first()) or \
            (Ticket.objects.filter(centre__country=self.country)
             .values("centre", "group").annotate(n=Count("pk")).order_by("-n").first())
        if place is None:
            raise AnomalyError("the history has no centre tickets (run the demo with tickets)")
        for _ in range(SUBJECTS_PER_FLAG):
            citizen = self.citizen()
            rows = []
            for _ in range(12):
                day = self.day()
                slot = self.at(day, 9 + self.rng.randrange(8), 15 * self.rng.randrange(4))
                state = self.rng.choice(("no_show", "no_show", "cancelled"))
                rows.append(Appointment(
                    centre_id=place["centre"], group_id=place["group"], citizen_id=citizen,
                    slot_start=slot, slot_end=slot + dt.timedelta(minutes=15), state=state,
                    code=self.code(), booked_at=slot - dt.timedelta(days=3),
                    cancelled_at=slot - dt.timedelta(hours=2) if state == "cancelled" else None))
            created = Appointment.objects.bulk_create(rows)
            self.truth.add("slot_hoarding", "citizen", citizen,
                           {"appointments": [a.pk for a in created]})

    def code(self) -> str:
        return "X" + "".join(self.rng.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789") for _ in range(9))

    def _centres(self) -> list[int]:
        rows = (Ticket.objects.filter(centre__country=self.country, state="served",
                                      finished_at__gte=self.start, finished_at__lt=self.end)
                .values("centre").annotate(n=Count("pk")).order_by("-n"))
        return [r["centre"] for r in rows if r["centre"] not in self.used_centres]

    def rating_burst(self) -> None:
        for centre in self._centres()[:SUBJECTS_PER_FLAG]:
            self.used_centres.add(centre)
            tickets = list(Ticket.objects.filter(
                centre_id=centre, state="served", finished_at__gte=self.start,
                finished_at__lt=self.end, ratings__isnull=True).order_by("pk")[:16])
            device = f"{self.rng.getrandbits(128):032x}"
            days = [self.day(), self.day()]
            rows = []
            for k, ticket in enumerate(tickets):
                moment = self.at(days[k % 2], 18, k)
                rows.append(Rating(
                    country=self.country, ticket=ticket, centre_id=centre, channel="portal",
                    scores={"overall": 5}, mean=5, lowest=5, device=device,
                    created_at=moment, updated_at=moment))
            created = Rating.objects.bulk_create(rows)
            self.truth.add("rating_burst", "centre", centre,
                           {"ratings": [r.pk for r in created]})

    def complaint(self, registered: dt.datetime, *, decided: dt.datetime | None = None,
                  **links: Any) -> Complaint:
        self.serial += 1
        return Complaint(
            number=f"{self.country.code.upper()}-XC{self.serial:06d}-{self.code()[1:7]}",
            country=self.country,
            level="provider", subject="operator" if links.get("staff") else "centre",
            ground="other", text="(demo)", registered_at=registered,
            deadline_at=registered + dt.timedelta(days=15),
            state="decided" if decided else "registered", decision="upheld" if decided else "",
            decided_at=decided, **links)

    def complaint_rate(self) -> None:
        for centre in self._centres()[:SUBJECTS_PER_FLAG]:
            self.used_centres.add(centre)
            # on the centre's own (demo) applications, so `demo --replace` deletes them
            apps: list[tuple[int | None, int | None]] = list(
                Application.objects.filter(centre_id=centre, country=self.country)
                .values_list("pk", "agency_id")[:20]) or [(None, None)]
            rows = [self.complaint(self.at(self.day(), 12, k), centre_id=centre,
                                   application_id=apps[k % len(apps)][0],
                                   agency_id=apps[k % len(apps)][1])
                    for k in range(20)]
            created = Complaint.objects.bulk_create(rows)
            self.truth.add("complaint_rate", "centre", centre,
                           {"complaints": [c.pk for c in created]})


def planted_refusers(country: Country, start: dt.datetime, end: dt.datetime
                     ) -> list[dict[str, Any]]:
    """The officers the demo itself makes refuse about two and a half times as often as
    their peers (`onestop.demo.generator`: one in sixteen), who decided in the window:
    genuine red flags of the history, not injected here; `evaluate` counts them neither
    as hits nor as false alarms."""
    deciders = (ApplicationEvent.objects
                .filter(application__country=country, action__in=("approve", "refuse"),
                        actor_role="officer", at__gte=start, at__lt=end)
                .values_list("actor", "actor__username").order_by().distinct())
    return [{"kind": "officer", "id": pk} for pk, username in sorted(set(deciders))
            if pk is not None and _officer_factor(Actor(pk, username, "officer")) > 1]


def inject(country: Country, period: str, *, seed: int = 1) -> Truth:
    """Write one pattern of misconduct per flag into `period` of the country's demo
    history and return the ground truth."""
    injector = _Injector(country, period, seed)
    with transaction.atomic():
        for flag in FLAG_CODES:
            getattr(injector, flag)()
    planted = planted_refusers(country, injector.start, injector.end)
    # the demo's strict officers refuse more, so more of their refusals are overturned;
    # the officers who refuse and then approve, or whose refusals are overturned, do
    # refuse more than their peers: a true signal of refusal_rate too
    also = [{"kind": e["kind"], "id": e["id"]} for flag in REFUSAL_PATTERNS[1:]
            for e in injector.truth.flags.get(flag, [])]
    injector.truth.known = {"refusal_rate": planted + also, "overturned_refusals": planted}
    missing = [flag for flag in FLAG_CODES if flag not in injector.truth.flags]
    if missing:
        raise AnomalyError(f"the history is too small for: {', '.join(missing)}")
    return injector.truth


def default_period(country: Country) -> str:
    """The last quarter that ended before the latest demo application was submitted
    (the first quarter of the history if none did)."""
    last = (Application.objects.filter(country=country, planted_flag="")
            .order_by("-submitted_at").values_list("submitted_at", flat=True).first())
    if last is None:
        raise AnomalyError(f"{country.code} has no applications: run `onestop demo` first")
    local = last.astimezone(ZoneInfo(country.time_zone))
    quarter = (local.month - 1) // 3  # the quarter before the current one
    if quarter == 0:
        return f"{local.year}-Q1"
    return f"{local.year}-Q{quarter}"


def demo_anomalies(code: str, out: str | None, seed: int = 1,
                   period: str | None = None) -> str:
    """`onestop demo --anomalies`: inject the patterns into the country's demo history
    (the last full quarter unless `period`) and write the ground truth as JSON to `out`
    (default $ONESTOP_DATA_DIR/anomalies.json). Returns the line to print."""
    country = Country.objects.filter(code=code).first()
    if country is None:
        raise AnomalyError(f"country {code!r} is not loaded")
    period = period or default_period(country)
    truth = inject(country, period, seed=seed)
    path = Path(out) if out else Path(settings.DATA_DIR) / "anomalies.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(truth.as_json(), indent=2, sort_keys=True))
    except OSError as exc:
        raise AnomalyError(f"cannot write the ground truth to {path}: {exc}") from None
    subjects = sum(len(v) for v in truth.flags.values())
    return (f"  anomalies: {len(truth.flags)} patterns, {subjects} subjects injected into "
            f"{period}; ground truth in {path} (`onestop integrity evaluate --truth {path}`)")
