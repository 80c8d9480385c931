"""`onestop demo`: the centres' history (tickets, slices, appointments, counter sessions)
consistent with the applications submitted at counters. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import itertools
from collections import Counter as Tally
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from django.core.management import call_command
from django.utils import timezone

from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.catalogue.selectors import calendar_for
from onestop.centres.models import (
    Appointment,
    Centre,
    Counter,
    CounterSession,
    QueueSettings,
    ServiceGroup,
    Ticket,
    TicketSequence,
    TicketSlice,
)
from onestop.demo.generator import Params
from onestop.demo.writer import demo_applications, generate, history_digest

N = 1500


def run(n: int = N, seed: int = 5, *, replace: bool = False,
        pipeline: bool | None = False) -> None:
    params = Params(applications=n, seed=seed, year=2025, now=timezone.now(), batch="t",
                    chunk_size=400)
    generate("kz", params, pipeline=pipeline, replace=replace)


def within(hours: dict, moment: datetime, zone: object, worked: bool) -> bool:
    local = moment.astimezone(zone)  # type: ignore[arg-type]
    key = local.strftime("%A").lower()
    if worked and local.weekday() >= 5:
        key = "monday"
    return any(time.fromisoformat(s.split("-")[0]) <= local.time()
               <= time.fromisoformat(s.split("-")[1]) for s in hours.get(key, []))


def check_history(country: Country) -> dict[str, float]:
    calendar = calendar_for(country)
    zone = calendar.zone
    rules = QueueSettings.objects.get(country=country)
    tickets = list(Ticket.objects.filter(centre__country=country).select_related(
        "centre", "group", "priority", "operator").prefetch_related("applications", "slices"))
    serves = defaultdict(set)
    for counter_pk, group_pk in Counter.groups.through.objects.filter(
            counter__centre__country=country).values_list("counter_id", "servicegroup_id"):
        serves[counter_pk].add(group_pk)
    assert tickets
    groups = list(ServiceGroup.objects.filter(country=country))

    def group_of(code: str) -> ServiceGroup:
        best, length = None, -1
        for group in groups:
            for prefix in group.service_prefixes:
                if code.startswith(prefix) and len(prefix) > length:
                    best, length = group, len(prefix)
        return best or next(g for g in groups if g.is_default)

    # every counter application has exactly one ticket, at its centre, in its group
    apps = list(demo_applications(country).filter(channel="centre", centre__isnull=False)
                .select_related("service"))
    assert len(apps) > 300
    by_app = defaultdict(list)
    for ticket in tickets:
        for app in ticket.applications.all():
            by_app[app.pk].append(ticket)
    for app in apps:
        found = by_app[app.pk]
        assert len(found) == 1, app.number
        ticket = found[0]
        assert ticket.centre_id == app.centre_id
        assert ticket.group == group_of(app.service.code)
        assert ticket.operator_id == app.submitted_by_id
        serving = [s for s in ticket.slices.all() if s.kind == "serving"][-1]
        assert serving.started_at < app.submitted_at < serving.ended_at, app.number
        assert ticket.day == app.submitted_at.astimezone(zone).date()
    assert sum(len(v) for v in by_app.values()) == len(apps)

    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    numbers = set()
    for ticket in tickets:
        slices = sorted(ticket.slices.all(), key=lambda s: (s.started_at, s.pk))
        assert slices[0].kind == "waiting"
        assert slices[0].started_at == ticket.issued_at
        assert ticket.place_at == ticket.issued_at
        for a, b in itertools.pairwise(slices):
            assert a.ended_at == b.started_at  # each change closes one slice, opens the next
        for s in slices:
            assert s.ended_at is not None
            assert s.started_at <= s.ended_at
            if s.kind in ("called", "serving"):
                assert s.counter_id is not None
                assert s.operator_id is not None
                busy[s.counter_id].append((s.started_at, s.ended_at))
                assert ticket.group_id in serves[s.counter_id]
        wait = sum((s.ended_at - s.started_at).total_seconds() for s in slices
                   if s.kind == "waiting")
        service = sum((s.ended_at - s.started_at).total_seconds() for s in slices
                      if s.kind == "serving")
        assert ticket.wait_seconds == round(wait)
        assert ticket.service_seconds == round(service)
        assert ticket.issued_at <= ticket.called_at <= ticket.finished_at
        assert ticket.finished_at == slices[-1].ended_at
        assert ticket.counter_id == slices[-1].counter_id
        assert ticket.operator.centre_id == ticket.centre_id
        assert ticket.group_id in serves[ticket.counter_id]
        if ticket.state == "no_show":
            assert [s.kind for s in slices] == ["waiting", "called"]
            assert slices[-1].note == "no_show"
            assert (slices[-1].ended_at - slices[-1].started_at) >= timedelta(
                minutes=rules.no_show_after_minutes)
            assert ticket.service_seconds == 0
            assert ticket.recalls >= 1
        else:
            assert ticket.state == "served"
            kinds = [s.kind for s in slices]
            assert kinds in (["waiting", "called", "serving"],
                             ["waiting", "called", "serving"] * 2)
            assert slices[-1].note == "served"
            if len(kinds) == 6:  # redirected to another counter, its place kept
                assert slices[3].note == "redirect"
                assert slices[3].reason
                assert slices[2].counter_id != slices[5].counter_id
                assert ticket.target_counter_id == slices[5].counter_id
        # within the centre's opening hours, on its day
        worked = calendar.is_working_day(ticket.day)
        for moment in (ticket.issued_at, ticket.finished_at):
            assert within(ticket.centre.opening_hours, moment, zone, worked), ticket
            assert moment.astimezone(zone).date() == ticket.day
        # numbers: B-042, per centre, group and day
        assert ticket.number == f"{ticket.group.code}-{ticket.sequence:03d}"
        key = (ticket.centre_id, ticket.day, ticket.group_id, ticket.sequence)
        assert key not in numbers
        numbers.add(key)
        if ticket.priority is not None:
            assert ticket.priority_rank == ticket.priority.rank
    # a counter serves one ticket at a time
    for spans in busy.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start
    # sequences: the last number of each day, so live issuing continues the numbering
    last = defaultdict(int)
    for ticket in tickets:
        key2 = (ticket.centre_id, ticket.group_id, ticket.day)
        last[key2] = max(last[key2], ticket.sequence)
    sequences = {(s.centre_id, s.group_id, s.day): s.last
                 for s in TicketSequence.objects.filter(centre__country=country)}
    assert sequences == dict(last)
    for key2, top in last.items():  # numbers 1..last without gaps
        count = sum(1 for t in tickets if (t.centre_id, t.group_id, t.day) == key2)
        assert count == top
    # issued in order: ordinary tickets of a group are called in the order issued
    ordinary = defaultdict(list)
    for ticket in tickets:
        if ticket.priority is None and ticket.due_at is None:
            ordinary[(ticket.centre_id, ticket.group_id, ticket.day)].append(ticket)
    for items in ordinary.values():
        items.sort(key=lambda t: t.sequence)
        firsts = [min(s.started_at for s in t.slices.all() if s.kind == "called")
                  for t in items]
        assert firsts == sorted(firsts)

    # sessions: an operator at a counter for the day, covering what was served there
    sessions = list(CounterSession.objects.filter(counter__centre__country=country)
                    .select_related("counter", "operator"))
    assert sessions
    by_counter = defaultdict(list)
    for session in sessions:
        assert session.closed_at is not None
        assert session.opened_at < session.closed_at
        assert session.operator.centre_id == session.counter.centre_id
        by_counter[(session.counter_id, session.operator_id)].append(session)
    for ticket in tickets:
        for s in ticket.slices.all():
            if s.counter_id is None:
                continue
            assert any(x.opened_at <= s.started_at and s.ended_at <= x.closed_at
                       for x in by_counter[(s.counter_id, s.operator_id)]), ticket
    per_day = Tally((x.operator_id, x.opened_at.astimezone(zone).date()) for x in sessions)
    assert max(per_day.values()) == 1  # one counter a day per operator

    # appointments: arrived ones hold their ticket, due from the slot less the early minutes
    appointments = list(Appointment.objects.filter(centre__country=country))
    for appointment in appointments:
        assert appointment.booked_at < appointment.slot_start < appointment.slot_end
        if appointment.state == "arrived":
            ticket = Ticket.objects.get(pk=appointment.ticket_id)
            assert ticket.source == "appointment"
            assert ticket.group_id == appointment.group_id
            assert ticket.due_at == appointment.slot_start - timedelta(
                minutes=rules.appointment_early_minutes)
            assert ticket.due_at <= ticket.called_at
            assert ticket.citizen_id == appointment.citizen_id
        else:
            assert appointment.ticket_id is None
            assert appointment.state in ("no_show", "cancelled")
            if appointment.state == "cancelled":
                assert appointment.booked_at <= appointment.cancelled_at <= appointment.slot_start
    assert len({a.code for a in appointments}) == len(appointments)

    n = len(tickets)
    states = Tally(a.state for a in appointments)
    limits = {app.pk: (app.standard.max_wait_minutes or rules.default_max_wait_minutes)
              for app in demo_applications(country).select_related("standard")}
    over = sum(1 for t in tickets for a in t.applications.all()
               if t.wait_seconds > limits[a.pk] * 60)
    return {
        "no_show": sum(t.state == "no_show" for t in tickets) / n,
        "redirected": sum(t.target_counter_id is not None for t in tickets) / n,
        "priority": sum(t.priority_id is not None for t in tickets) / n,
        "appointment": sum(t.source == "appointment" for t in tickets) / n,
        "consult": sum(not t.applications.all() and t.group.purpose == "consult"
                       for t in tickets) / n,
        "pickup": sum(t.group.purpose == "pickup" for t in tickets) / n,
        "application": len(apps) / n,
        "over_wait": over / len(apps),
        "appointment_no_show": states["no_show"] / max(states["arrived"], 1),
        "appointment_cancelled": states["cancelled"] / max(states["arrived"], 1),
    }


def test_the_centres_history_is_consistent_with_the_counter_applications(kz: Country) -> None:
    # one centre's counters serve some groups only: tickets go to counters of their group
    centre = Centre.objects.filter(country=kz).order_by("-counters", "code").first()
    assert centre is not None
    groups = {g.code: g for g in ServiceGroup.objects.filter(country=kz)}
    counters = list(Counter.objects.filter(centre=centre).order_by("number"))
    counters[0].groups.set([groups["A"], groups["R"]])
    counters[1].groups.set([groups[code] for code in "BCDK"])
    for counter in counters[2:]:
        counter.groups.set([groups["A"]])
    run()
    shares = check_history(kz)
    there = Ticket.objects.filter(centre=centre)
    assert set(there.values_list("counter__number", flat=True)) == {1, 2}
    assert not there.filter(counter__number=1).exclude(group__code__in="AR").exists()
    assert 0.03 < shares["no_show"] < 0.07
    assert 0.01 < shares["redirected"] < 0.05
    assert 0.02 < shares["priority"] < 0.07
    assert 0.04 < shares["appointment"] < 0.12
    assert 0.08 < shares["consult"] < 0.2
    assert 0.1 < shares["pickup"] < 0.3
    assert 0.5 < shares["application"] < 0.75
    assert 0.005 < shares["over_wait"] < 0.15
    assert 0.02 < shares["appointment_no_show"] < 0.25  # of about 70 arrived ones
    assert 0.02 < shares["appointment_cancelled"] < 0.25


def test_reruns_replace_only_the_demo_and_live_numbering_continues(kz: Country) -> None:
    run(n=300, seed=2)
    first = history_digest(kz)
    tickets = Ticket.objects.filter(centre__country=kz).count()
    assert tickets > 100
    assert "nothing to do" in _demo("--skip-existing")
    run(n=300, seed=2, replace=True, pipeline=True)  # the same history, all of it replaced
    assert history_digest(kz) == first
    assert Ticket.objects.filter(centre__country=kz).count() == tickets
    # a live ticket issued on a demo day after the demo continues its numbering; a new
    # demo keeps it and numbers its own tickets of that day after it
    last = TicketSequence.objects.filter(centre__country=kz).order_by("-last", "pk").first()
    assert last is not None
    at = datetime.combine(last.day, time(12, 59), tzinfo=UTC)
    live = Ticket.objects.create(
        centre=last.centre, group=last.group, day=last.day, sequence=last.last + 1,
        number=f"{last.group.code}-{last.last + 1:03d}", source="kiosk", issued_at=at,
        place_at=at,
    )
    TicketSequence.objects.filter(pk=last.pk).update(last=last.last + 1)
    run(n=300, seed=2, replace=True)
    assert history_digest(kz) != first  # that day's numbers moved on
    assert Ticket.objects.get(pk=live.pk).number == live.number
    assert Ticket.objects.filter(centre__country=kz).count() == tickets + 1
    day = Ticket.objects.filter(centre=last.centre, group=last.group, day=last.day)
    sequences = sorted(day.values_list("sequence", flat=True))
    assert len(set(sequences)) == len(sequences)
    assert min(s for s in sequences if s != live.sequence) > live.sequence
    assert TicketSequence.objects.get(pk=last.pk).last == max(sequences)
    run(n=300, seed=3, replace=True)
    assert Ticket.objects.filter(pk=live.pk).exists()
    assert Application.objects.filter(tickets__isnull=False).distinct().count() == \
        demo_applications(kz).filter(channel="centre", centre__isnull=False).count()


def test_no_tickets_leaves_the_queue_empty(kz: Country) -> None:
    run(n=200, seed=4, pipeline=None)
    assert Ticket.objects.exists()
    params = Params(applications=200, seed=4, year=2025, now=timezone.now(), batch="t",
                    tickets=False)
    generate("kz", params, replace=True)
    assert not Ticket.objects.exists()
    assert not TicketSlice.objects.exists()
    assert not CounterSession.objects.exists()
    assert not Appointment.objects.exists()
    assert not TicketSequence.objects.exists()


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--country", "kz", "--applications", "300", "--year", "2025", *args,
                 stdout=out, stderr=io.StringIO())
    return out.getvalue()
