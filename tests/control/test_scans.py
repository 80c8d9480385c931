"""The violations scans: each kind found on hand-built rows, with time driven by `now`;
a second scan records nothing new; the bounds of each kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from onestop.accounts.models import User
from onestop.applications import services as applications
from onestop.applications.models import Application, ApplicationEvent
from onestop.audit.models import AuditEntry as Entry
from onestop.catalogue.models import Country, Service
from onestop.catalogue.selectors import calendar_for
from onestop.centres.models import Ticket
from onestop.control import services
from onestop.control.models import FoundBy, Violation, ViolationKind
from onestop.feedback.models import Complaint
from tests.applications.samples import sample_for
from tests.control.conftest import ALMATY, MONDAY

APRIL = datetime(2026, 4, 6, 10, tzinfo=ALMATY)  # a Monday under the 2026 standard

pytestmark = pytest.mark.django_db


def kinds(country: Country) -> list[tuple[str, str]]:
    return sorted(Violation.objects.filter(country=country).values_list("kind", "key"))


def test_a_missed_deadline_is_recorded_once(
    mini_country: Country, make_app: Callable[..., Application], officer: User
) -> None:
    late = make_app(deadline_at=MONDAY + timedelta(days=3))
    make_app(deadline_at=MONDAY + timedelta(days=30))  # not yet due
    now = MONDAY + timedelta(days=4)

    first = services.scan(mini_country, now)
    assert [v.key for v in first.new[ViolationKind.DEADLINE_MISSED]] == [
        f"deadline_missed:app:{late.pk}"
    ]
    violation = Violation.objects.get(kind=ViolationKind.DEADLINE_MISSED)
    assert violation.application == late
    assert violation.agency == late.agency
    assert violation.person == officer
    assert violation.found_by == FoundBy.CONTROL
    assert violation.found_at == now

    again = services.scan(mini_country, now + timedelta(hours=1))
    assert again.total == 0
    assert Violation.objects.filter(kind=ViolationKind.DEADLINE_MISSED).count() == 1


def test_finished_late_is_a_violation_and_finished_on_time_is_not(
    mini_country: Country, make_app: Callable[..., Application]
) -> None:
    on_time = make_app(deadline_at=MONDAY + timedelta(days=3), state="issued",
                       outcome="issued", completed_at=MONDAY + timedelta(days=2))
    late = make_app(deadline_at=MONDAY + timedelta(days=3), state="issued",
                    outcome="issued", completed_at=MONDAY + timedelta(days=3, hours=1))
    withdrawn = make_app(deadline_at=MONDAY + timedelta(days=3), state="withdrawn",
                         outcome="withdrawn", completed_at=MONDAY + timedelta(days=4))
    services.scan(mini_country, MONDAY + timedelta(days=10))
    flagged = set(Violation.objects.filter(kind=ViolationKind.DEADLINE_MISSED)
                  .values_list("application_id", flat=True))
    assert flagged == {late.pk}
    assert on_time.pk not in flagged
    assert withdrawn.pk not in flagged


def test_a_clock_stopped_before_the_deadline_is_not_late_but_one_stopped_after_is(
    mini_country: Country, make_app: Callable[..., Application]
) -> None:
    deadline = MONDAY + timedelta(days=3)
    waiting = make_app(deadline_at=deadline, state="awaiting_applicant",
                       clock_stopped_at=MONDAY + timedelta(days=1))
    stopped_late = make_app(deadline_at=deadline, state="awaiting_applicant",
                            clock_stopped_at=MONDAY + timedelta(days=3, hours=2))
    services.scan(mini_country, MONDAY + timedelta(days=6))
    flagged = set(Violation.objects.filter(kind=ViolationKind.DEADLINE_MISSED)
                  .values_list("application_id", flat=True))
    assert flagged == {stopped_late.pk}
    assert waiting.pk not in flagged


def test_a_stopped_clock_extends_the_deadline_through_the_workflow(
    mini_country: Country, birth: Service, officer: User, make_user: Callable[..., User]
) -> None:
    """Submitted on Monday 6 April (5 working days), documents requested at once and provided a
    week later: the deadline moves by the pause, so the original deadline is no breach."""
    citizen = make_user("citizen", national_id="900101300011")
    application = applications.submit(
        service=birth, form_data=sample_for(birth),
        channel="portal", national_id="900101300011", applicant=citizen,
        submitted_by=citizen, now=APRIL,
    ).application
    original = application.deadline_at
    applications.act(application=application, user=officer, action="accept",
                     now=APRIL + timedelta(minutes=5))
    applications.act(application=application, user=officer, action="request_documents",
                     comment="Bring the medical record", requested_documents=["id_card"],
                     now=APRIL + timedelta(minutes=10))
    application.refresh_from_db()
    assert application.clock_stopped_at is not None
    # while stopped, even past the original deadline: not late
    services.scan(mini_country, original + timedelta(hours=1))
    assert not Violation.objects.filter(application=application,
                                        kind=ViolationKind.DEADLINE_MISSED).exists()
    resumed_at = APRIL + timedelta(days=7)
    applications.act(application=application, user=citizen, action="provide_documents",
                     documents=[applications.UploadedDocument(
                         "id_card", "id.pdf", "application/pdf", b"%PDF id")],
                     now=resumed_at)
    application.refresh_from_db()
    assert application.deadline_at > original
    services.scan(mini_country, original + timedelta(days=2))
    assert not Violation.objects.filter(application=application,
                                        kind=ViolationKind.DEADLINE_MISSED).exists()
    services.scan(mini_country, application.deadline_at + timedelta(minutes=1))
    assert Violation.objects.filter(application=application,
                                    kind=ViolationKind.DEADLINE_MISSED).count() == 1


def standard_deadline(country: Country, birth: Service, start: datetime) -> datetime:
    """The deadline `submit` would give: the standard's, on the country's calendar."""
    standard = birth.versions.order_by("-valid_from").first()
    assert standard is not None
    return calendar_for(country).deadline(start, standard.deadline_value,
                                          standard.deadline_unit)


@override_settings(ONESTOP_DEADLINE_ALERT_SHARE=0.8)
def test_deadline_near_at_the_configured_share(
    mini_country: Country, birth: Service, make_app: Callable[..., Application]
) -> None:
    deadline = standard_deadline(mini_country, birth, MONDAY)
    total = deadline - MONDAY
    application = make_app(deadline_at=deadline)
    services.scan(mini_country, MONDAY + total * 0.79)
    assert not Violation.objects.filter(kind=ViolationKind.DEADLINE_NEAR).exists()
    services.scan(mini_country, MONDAY + total * 0.81)
    near = Violation.objects.get(kind=ViolationKind.DEADLINE_NEAR)
    assert near.application == application
    assert near.found_by == FoundBy.SELF
    assert near.detail["alert_share"] == 0.8
    services.scan(mini_country, MONDAY + total * 0.9)
    assert Violation.objects.filter(kind=ViolationKind.DEADLINE_NEAR).count() == 1


@override_settings(ONESTOP_DEADLINE_ALERT_SHARE=0.5)
def test_the_share_is_a_setting_and_pauses_do_not_count(
    mini_country: Country, birth: Service, make_app: Callable[..., Application]
) -> None:
    deadline = standard_deadline(mini_country, birth, MONDAY)
    total = deadline - MONDAY
    # the same deadline, but half of the time to it was a pause: at 60% of the span,
    # the paused one has used 20% of its own time, the other 60%
    paused = make_app(deadline_at=deadline,
                      stopped_seconds=int(total.total_seconds() / 2))
    plain = make_app(deadline_at=deadline)
    services.scan(mini_country, MONDAY + total * 0.6)
    flagged = set(Violation.objects.filter(kind=ViolationKind.DEADLINE_NEAR)
                  .values_list("application_id", flat=True))
    assert flagged == {plain.pk}
    assert paused.pk not in flagged


def test_a_stage_over_its_limit(
    mini_country: Country, make_app: Callable[..., Application]
) -> None:
    """`awaiting_agency` of interagency_approval has a limit of 2 working days."""
    application = make_app(workflow="interagency_approval", state="awaiting_agency",
                           deadline_at=MONDAY + timedelta(days=30))
    entered = ApplicationEvent.objects.create(
        application=application, at=MONDAY + timedelta(hours=1), action="ask_agency",
        from_state="in_review", to_state="awaiting_agency", actor_role="officer")
    services.scan(mini_country, MONDAY + timedelta(days=1))
    assert not Violation.objects.filter(kind=ViolationKind.STAGE_OVERDUE).exists()
    services.scan(mini_country, MONDAY + timedelta(days=4))
    stage = Violation.objects.get(kind=ViolationKind.STAGE_OVERDUE)
    assert stage.key == f"stage_overdue:app:{application.pk}:{entered.pk}"
    assert stage.detail["stage"] == "awaiting_agency"
    assert stage.found_by == FoundBy.SELF
    assert services.scan(mini_country, MONDAY + timedelta(days=5)).total == 0


def test_a_refusal_on_a_ground_not_in_the_standard(
    mini_country: Country, make_app: Callable[..., Application], officer: User
) -> None:
    lawful = make_app(state="refused", outcome="refused", refusal_ground="unreliable",
                      completed_at=MONDAY + timedelta(hours=2))
    unlawful = make_app(state="refused", outcome="refused", refusal_ground="bad_mood",
                        completed_at=MONDAY + timedelta(hours=2))
    ApplicationEvent.objects.create(application=unlawful, at=MONDAY + timedelta(hours=2),
                                    action="refuse", from_state="in_review",
                                    to_state="refused", actor=officer, actor_role="officer")
    services.scan(mini_country, MONDAY + timedelta(hours=3))
    violation = Violation.objects.get(kind=ViolationKind.REFUSAL_GROUND)
    assert violation.application == unlawful
    assert violation.person == officer
    assert violation.detail["ground"] == "bad_mood"
    assert not Violation.objects.filter(application=lawful).exists()
    assert services.scan(mini_country, MONDAY + timedelta(hours=4)).total == 0


def test_documents_requested_beyond_the_standard(
    mini_country: Country, make_app: Callable[..., Application], officer: User
) -> None:
    application = make_app()
    fine = ApplicationEvent.objects.create(
        application=application, at=MONDAY + timedelta(hours=1), action="request_documents",
        from_state="in_review", to_state="awaiting_applicant", actor=officer,
        actor_role="officer", clock="stop", data={"requested_documents": ["id_card"]})
    beyond = ApplicationEvent.objects.create(
        application=application, at=MONDAY + timedelta(hours=2), action="request_documents",
        from_state="in_review", to_state="awaiting_applicant", actor=officer,
        actor_role="officer", clock="stop",
        data={"requested_documents": ["id_card", "bank_statement"]})
    services.scan(mini_country, MONDAY + timedelta(hours=3))
    violation = Violation.objects.get(kind=ViolationKind.EXTRA_DOCUMENTS)
    assert violation.key == f"extra_documents:app:{application.pk}:{beyond.pk}"
    assert violation.detail["beyond_standard"] == ["bank_statement"]
    assert violation.person == officer
    assert not Violation.objects.filter(key__endswith=f":{fine.pk}").exists()
    assert services.scan(mini_country, MONDAY + timedelta(hours=4)).total == 0


def test_waits_and_counter_times_over_the_standard(
    mini_country: Country, make_ticket: Callable[..., Ticket],
    make_app: Callable[..., Application], operator: User
) -> None:
    """Group A covers the birth service: a 30-minute wait under the standard in force on
    2 March; the counter time is measured against the linked application's standard."""
    long_wait = make_ticket(wait_seconds=31 * 60)
    short_wait = make_ticket(wait_seconds=29 * 60)
    limit = make_app().standard.max_service_minutes
    assert limit is not None
    slow = make_ticket(service_seconds=(limit + 1) * 60)
    slow.applications.add(make_app())
    quick = make_ticket(service_seconds=(limit - 1) * 60)
    quick.applications.add(make_app())
    unlinked = make_ticket(service_seconds=90 * 60)  # no standard to measure against
    services.scan(mini_country, MONDAY + timedelta(hours=3))
    waits = Violation.objects.filter(kind=ViolationKind.WAIT_OVER)
    assert [v.ticket_id for v in waits] == [long_wait.pk]
    assert waits[0].centre == long_wait.centre
    assert waits[0].agency is None
    assert waits[0].person == operator
    counters = Violation.objects.filter(kind=ViolationKind.COUNTER_TIME_OVER)
    assert [v.ticket_id for v in counters] == [slow.pk]
    assert counters[0].detail["max_service_seconds"] == limit * 60
    assert not Violation.objects.filter(ticket__in=[short_wait, quick, unlinked]).exists()
    assert services.scan(mini_country, MONDAY + timedelta(hours=4)).total == 0


def test_complaints_past_their_deadline(
    mini_country: Country, make_complaint: Callable[..., Complaint], officer: User
) -> None:
    deadline = MONDAY + timedelta(days=5)
    overdue = make_complaint(deadline_at=deadline)
    extended = make_complaint(deadline_at=deadline, extended_to=deadline + timedelta(days=10))
    answered_late = make_complaint(deadline_at=deadline, state="decided", decision="rejected",
                                   decided_at=deadline + timedelta(days=1))
    answered = make_complaint(deadline_at=deadline, state="decided", decision="rejected",
                              decided_at=deadline - timedelta(days=1))
    control = make_complaint(deadline_at=deadline, level="control")
    services.scan(mini_country, deadline + timedelta(days=2))
    found = Violation.objects.filter(kind=ViolationKind.COMPLAINT_OVERDUE)
    assert {v.complaint_id for v in found} == {overdue.pk, answered_late.pk}
    assert {v.key for v in found} == {f"complaint_overdue:{overdue.number}",
                                      f"complaint_overdue:{answered_late.number}"}
    assert all(v.person == officer for v in found)
    assert not Violation.objects.filter(complaint__in=[extended, answered, control]).exists()
    assert services.scan(mini_country, deadline + timedelta(days=3)).total == 0


def test_the_scan_writes_one_audit_entry(
    mini_country: Country, make_app: Callable[..., Application]
) -> None:
    make_app(deadline_at=MONDAY + timedelta(days=1))
    before = Entry.objects.filter(action="violations.scanned").count()
    result = services.scan(mini_country, MONDAY + timedelta(days=2))
    entries = Entry.objects.filter(action="violations.scanned")
    assert entries.count() == before + 1
    assert entries.order_by("-pk").first().data["new"]["deadline_missed"] == result.total == 1


def test_the_kz_pack_scans_cleanly(kz: Country) -> None:
    """Every workflow of a real pack parses and every scan runs on an empty country."""
    result = services.scan(kz, MONDAY)
    assert result.total == 0
    assert set(result.new) == set(services.SCANS)


def test_the_scan_is_set_based(
    mini_country: Country, make_app: Callable[..., Application],
    make_ticket: Callable[..., Ticket]
) -> None:
    """The number of queries does not grow with the number of rows scanned or found."""

    def queries(apps: int, at: datetime) -> int:
        for _ in range(apps):
            make_app(submitted_at=at, deadline_at=at + timedelta(days=1))
            make_ticket(wait_seconds=3 * 3600, at=at)
        with CaptureQueriesContext(connection) as captured:
            assert services.scan(mini_country, at + timedelta(days=2)).total == 2 * apps
        return len(captured)

    assert queries(2, MONDAY) == queries(20, MONDAY + timedelta(days=7))
