"""`onestop demo` writes the citizens' side of its history: ratings, complaints and
violations consistent with the applications, tickets and the calendar, so that every
indicator of the assessment has a value. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from onestop.applications.models import Application, Payment
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Country
from onestop.catalogue.packs import read_pack, resolve_pack_path
from onestop.catalogue.services import load_pack
from onestop.control.models import FoundBy, Violation, ViolationKind
from onestop.demo.writer import demo_applications
from onestop.feedback.models import (
    Complaint,
    ComplaintLevel,
    ComplaintState,
    Rating,
)
from onestop.feedback.selectors import rules_for
from onestop.feedback.services import _deadline, is_signal
from onestop.quality.methodology import parse
from onestop.quality.models import AssessmentRun
from onestop.quality.services import read_methodology

pytestmark = pytest.mark.django_db

YEAR = "2025"  # a whole past year: every application has its outcome


def demo(country: str, n: int, *extra: str, seed: int = 3) -> str:
    out = io.StringIO()
    call_command("demo", "--country", country, "--applications", str(n), "--seed", str(seed),
                 "--year", YEAR, *extra, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def uz(db: None) -> Country:
    load_pack(read_pack(resolve_pack_path("uz")))
    return Country.objects.get(code="uz")


def check_ratings(country: Country) -> None:
    rules = rules_for(country)
    criteria = [c["code"] for c in rules.criteria]
    ratings = list(Rating.objects.filter(country=country).select_related(
        "application", "ticket"))
    assert ratings
    by_kind: dict[str, list[Decimal]] = {"refused": [], "late": [], "on time": []}
    for rating in ratings:
        assert (rating.application_id is None) != (rating.ticket_id is None)
        assert sorted(rating.scores) == sorted(criteria)
        values = list(rating.scores.values())
        assert all(1 <= v <= 5 for v in values)
        assert rating.lowest == min(values)
        assert rating.mean == (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"))
        assert rating.alert == is_signal(rules, rating.lowest, rating.comment)
        assert rating.created_at == rating.updated_at
        app = rating.application
        if app is not None:
            # rated by its applicant, after the result, as feedback.services.rate allows
            assert app.outcome in ("issued", "refused")
            assert rating.created_at > app.completed_at
            assert rating.citizen_id == app.applicant_id is not None
            assert (rating.agency_id, rating.centre_id) == (app.agency_id, app.centre_id)
            kind = ("refused" if app.outcome == "refused"
                    else "late" if app.completed_at > app.deadline_at else "on time")
            by_kind[kind].append(rating.mean)
        else:
            ticket = rating.ticket
            assert ticket.state == "served"
            assert rating.created_at > ticket.finished_at
            assert rating.centre_id == ticket.centre_id
            assert rating.channel in ("receipt", "kiosk")
            assert rating.citizen_id is None  # the receipt's QR code needs no sign-in
    # lower scores where the application was refused or late
    mean = {k: sum(v) / len(v) for k, v in by_kind.items() if v}
    assert mean["refused"] < mean["on time"] - 1
    if "late" in mean:
        assert mean["late"] < mean["on time"]
    assert any(r.alert for r in ratings)
    assert any(r.comment for r in ratings)
    # a realistic share of those who could rate did
    could = demo_applications(country).filter(
        outcome__in=("issued", "refused"), applicant__isnull=False).count()
    share = sum(1 for r in ratings if r.application_id) / could
    assert 0.2 < share < 0.45
    # every rating has its audit entry, as rate() records it
    assert AuditEntry.objects.filter(action="rating.given").count() == len(ratings)


def check_complaints(country: Country) -> None:
    rules = rules_for(country)
    grounds = {g["code"]: g["subjects"] for g in rules.grounds}
    complaints = list(Complaint.objects.filter(country=country).select_related(
        "application", "escalated_from").prefetch_related("events"))
    assert complaints
    states = Counter((c.level, c.state) for c in complaints)
    assert states[(ComplaintLevel.PROVIDER, ComplaintState.DECIDED)] > 0
    in_time = late = 0
    for complaint in complaints:
        app = complaint.application
        assert app is not None
        assert complaint.subject == "application"
        assert "application" in grounds[complaint.ground]
        assert complaint.citizen_id == app.applicant_id is not None
        assert complaint.agency_id == app.agency_id
        assert complaint.registered_at > app.completed_at
        # the legal deadline of its level on the country's calendar, from registration
        assert complaint.deadline_at == _deadline(country, rules, complaint.level,
                                                  complaint.registered_at)
        if complaint.extended_to is not None:
            assert complaint.extension_reason
            assert complaint.deadline_at < complaint.extended_to
        events = sorted(complaint.events.all(), key=lambda e: (e.at, e.pk))
        assert events[0].action == "registered"
        assert events[0].at == complaint.registered_at
        assert [e.at for e in events] == sorted(e.at for e in events)
        due = complaint.extended_to or complaint.deadline_at
        if complaint.decided_at is not None:  # decided (and perhaps taken further)
            assert complaint.state in (ComplaintState.DECIDED, ComplaintState.ESCALATED)
            assert complaint.decision in ("upheld", "partly_upheld", "rejected")
            assert complaint.decision_reason
            assert complaint.handler_id is not None
            assert complaint.decided_at in [e.at for e in events if e.action == "decided"]
            if complaint.decided_at <= due:
                in_time += 1
            else:
                late += 1
            # recorded as decide() records it: late or not against the (extended) deadline
            entry = AuditEntry.objects.get(action="complaint.decided",
                                           subject_id=complaint.number)
            assert entry.data["late"] == (complaint.decided_at > due)
            assert entry.data["decision"] == complaint.decision
            # a provider's late answer: the scan's violation, dated at the deadline
            overdue = Violation.objects.filter(key=f"complaint_overdue:{complaint.number}")
            if complaint.level == ComplaintLevel.PROVIDER and complaint.decided_at > due:
                assert overdue.get().found_at == due
            else:
                assert not overdue.exists()
        else:
            assert complaint.state != ComplaintState.DECIDED
            assert complaint.decision == ""
        if complaint.level == ComplaintLevel.CONTROL:
            lower = complaint.escalated_from
            assert lower is not None
            assert lower.state == ComplaintState.ESCALATED
            assert complaint.registered_at == next(e.at for e in lower.events.all()
                                                   if e.action == "escalated")
            if lower.decided_at is None:  # not answered: escalated by the overdue job
                assert complaint.registered_at > (lower.extended_to or lower.deadline_at)
                overdue = Violation.objects.get(
                    key=f"{ViolationKind.COMPLAINT_OVERDUE}:{lower.number}")
                assert overdue.detail["escalated_to"] == complaint.number
                assert overdue.found_at == complaint.registered_at
            else:  # the citizen disagreed with the decision
                assert lower.decision == "rejected"
                assert complaint.registered_at > lower.decided_at
        if complaint.state == ComplaintState.ESCALATED:
            assert complaint.level == ComplaintLevel.PROVIDER
            assert Complaint.objects.filter(escalated_from=complaint).exists()
    assert in_time > late > 0
    assert states[(ComplaintLevel.PROVIDER, ComplaintState.ESCALATED)] > 0
    # an upheld complaint against a refusal: the refusal recorded as unjustified, the fee
    # flagged for refund (feedback.services._unjustified_refusal)
    upheld = [c for c in complaints if c.ground == "unjustified_refusal"
              and c.decision in ("upheld", "partly_upheld") and c.application.outcome == "refused"]
    assert upheld
    for complaint in upheld:
        violation = Violation.objects.get(
            key=f"{ViolationKind.UNJUSTIFIED_REFUSAL}:app:{complaint.application_id}")
        assert violation.complaint_id == complaint.pk
        assert violation.found_at == complaint.decided_at
        assert violation.found_by == (FoundBy.CONTROL if complaint.level == "control"
                                      else FoundBy.SELF)
        assert not Payment.objects.filter(application=complaint.application,
                                          status=Payment.Status.PAID).exists()
    flagged = set(Payment.objects.filter(status=Payment.Status.REFUND_DUE)
                  .values_list("application_id", flat=True))
    assert flagged <= {c.application_id for c in upheld}
    # every complaint event has its audit entry
    assert AuditEntry.objects.filter(action__startswith="complaint.").count() == sum(
        len(c.events.all()) for c in complaints)


def check_violations(country: Country) -> None:
    violations = Violation.objects.filter(country=country)
    assert violations.values("key").distinct().count() == violations.count()
    kinds = Counter(violations.values_list("kind", flat=True))
    for kind in (ViolationKind.DEADLINE_MISSED, ViolationKind.DEADLINE_NEAR,
                 ViolationKind.WAIT_OVER, ViolationKind.UNJUSTIFIED_REFUSAL,
                 ViolationKind.COMPLAINT_OVERDUE):
        assert kinds[kind] > 0, kind
    for v in violations.filter(kind=ViolationKind.DEADLINE_MISSED).select_related(
            "application"):
        app = v.application
        assert v.key == f"deadline_missed:app:{app.pk}"
        assert app.completed_at > app.deadline_at
        assert v.found_at == app.deadline_at  # found when the deadline passed
        assert v.found_by == FoundBy.CONTROL
    for v in violations.filter(kind=ViolationKind.DEADLINE_NEAR).select_related(
            "application"):
        app = v.application
        assert v.found_by == FoundBy.SELF
        assert app.submitted_at < v.found_at < min(app.deadline_at, app.completed_at)
    for v in violations.filter(kind=ViolationKind.WAIT_OVER).select_related("ticket"):
        assert v.found_at == v.ticket.finished_at
        assert v.ticket.wait_seconds > v.detail["max_wait_seconds"]
    # every late application has its violation, no application on time has one
    late = demo_applications(country).filter(outcome__in=("issued", "refused"),
                                              completed_at__gt=F("deadline_at")).count()
    assert kinds[ViolationKind.DEADLINE_MISSED] == late


def check_rescan(country: Country) -> None:
    """The live scan finds nothing the demo did not record."""
    before = Violation.objects.count()
    out = io.StringIO()
    call_command("control", "scan", "--country", country.code, "--full", stdout=out)
    assert f"{country.code}: new violations: 0;" in out.getvalue()
    assert Violation.objects.count() == before


def check_assessment(country: Country) -> None:
    """Every indicator of the pack's methodology has a value: at the agency scope all but
    the queue's wait (tickets belong to centres, not agencies), that one at the centre
    scope."""
    methodology = parse(read_methodology(resolve_pack_path(country.code)))
    valued: dict[str, set[str]] = {}
    for scope in ("agency", "centre"):
        call_command("assess", "--period", YEAR, "--country", country.code, "--scope", scope,
                     stdout=io.StringIO())
        run = AssessmentRun.objects.filter(scope=scope).latest("pk")
        valued[scope] = {
            code for result in run.results.all() for code, value in result.values.items()
            if value.get("value") is not None
        }
    codes = {i.code for i in methodology.indicators}
    measures = {i.code: i.measure for i in methodology.indicators}
    for code in codes:
        scope = "centre" if measures[code] == "queue_wait" else "agency"
        assert code in valued[scope], (code, scope)


def test_a_history_has_consistent_ratings_complaints_and_violations(kz: Country) -> None:
    out = demo("kz", 3000)
    assert "feedback:" in out
    assert "violations:" in out
    check_ratings(kz)
    check_complaints(kz)
    check_violations(kz)
    check_rescan(kz)
    check_assessment(kz)
    call_command("audit", "verify", stdout=io.StringIO())
    # --replace deletes all of it with the applications, and writes it anew
    out = demo("kz", 300, "--replace", seed=4)
    assert "3,000 demo applications of the previous run deleted" in out
    apps = demo_applications(kz).values("pk")
    assert not Rating.objects.exclude(application__in=apps).filter(ticket__isnull=True).exists()
    assert not Complaint.objects.exclude(application__in=apps).exists()
    assert not Violation.objects.exclude(application__in=apps).filter(
        ticket__isnull=True).exists()
    call_command("audit", "verify", stdout=io.StringIO())


def test_the_pack_s_criteria_and_deadlines_are_used(uz: Country) -> None:
    """Uzbekistan's four criteria, 15 working days for each level; no feedback with
    --no-feedback."""
    demo("uz", 1500)
    check_ratings(uz)
    rules = rules_for(uz)
    assert rules.deadlines["provider"] == {"value": 15, "unit": "working_days"}
    for complaint in Complaint.objects.filter(country=uz)[:50]:
        assert complaint.deadline_at == _deadline(uz, rules, complaint.level,
                                                  complaint.registered_at)
    check_rescan(uz)
    out = demo("uz", 200, "--replace", "--no-feedback")
    assert "feedback:" not in out
    assert not Rating.objects.exists()
    assert not Complaint.objects.exists()
    # the scans were not run: the late applications have no violation yet
    assert not Violation.objects.exists()


def test_the_same_seed_gives_the_same_feedback(kz: Country) -> None:
    def run(seed: int) -> list[tuple[object, ...]]:
        demo("kz", 400, "--replace", seed=seed)
        ratings = Rating.objects.order_by("created_at", "application__number",
                                          "ticket__number").values_list(
            "created_at", "channel", "scores", "comment", "alert")
        complaints = Complaint.objects.order_by("number").values_list(
            "number", "level", "state", "ground", "registered_at", "deadline_at",
            "decided_at", "decision", "application__number")
        violations = Violation.objects.order_by("kind", "found_at",
                                                "application__number").values_list(
            "kind", "found_at", "found_by", "application__number")
        return [*ratings, *complaints, *violations]

    first = run(3)
    assert first
    assert run(3) == first
    assert run(5) != first
    # escalations are numbered after the complaints of the year, one number each
    numbers = Complaint.objects.values("number").annotate(n=Count("pk"))
    assert all(row["n"] == 1 for row in numbers)
    assert Application.objects.count() == 400
