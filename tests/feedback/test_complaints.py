"""Complaints: grounds and subjects from the pack, deadlines on the country's calendar,
extensions within the limit, who decides at each level, the consequences of an upheld
complaint against a refusal, and escalation on disagreement and when overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command

from onestop.accounts.models import User
from onestop.applications.models import Application, Payment
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Agency, Country
from onestop.centres.models import Centre, Ticket
from onestop.control.models import Violation
from onestop.feedback import services
from onestop.feedback.errors import Conflict, Forbidden, Invalid, NotFound
from onestop.feedback.models import Complaint, FeedbackRules
from onestop.notifications.models import Message

from .conftest import ALMATY, BEFORE_NAURYZ


def file(citizen: User | None, application: Application, ground: str = "unjustified_refusal",
         at: datetime = BEFORE_NAURYZ) -> Complaint:
    return services.file_complaint(citizen=citizen, subject="application", ground=ground,
                                   text="The refusal has no basis", application=application,
                                   now=at)


def test_the_provider_deadline_skips_nauryz(
    citizen: User, make_application: Callable[..., Application]
) -> None:
    # Thu 19 Mar 2026; 5 working days: Fri 20, then 21-22 weekend and 23-25 Nauryz, Thu 26,
    # Fri 27, Mon 30, Tue 31 March at the end of the working day.
    complaint = file(citizen, make_application(citizen, "refused"))
    assert complaint.deadline_at == datetime(2026, 3, 31, 18, tzinfo=ALMATY)
    assert complaint.number == "C-2026-000001"
    assert complaint.level == "provider"
    assert complaint.state == "registered"
    assert complaint.agency.code == "MJ-ZAGS"
    assert list(complaint.events.values_list("action", flat=True)) == ["registered"]
    assert AuditEntry.objects.filter(action="complaint.registered",
                                     subject_id=complaint.number).exists()
    assert Message.objects.filter(template="complaint_registered",
                                  recipient=citizen.email).exists()
    second = file(citizen, make_application(citizen, "refused"))
    assert second.number == "C-2026-000002"


def test_grounds_subjects_ownership_and_anonymity(
    citizen: User, other_citizen: User, make_application: Callable[..., Application],
    mini_country: Country, centre: Centre,
) -> None:
    application = make_application(citizen, "refused")
    with pytest.raises(Invalid, match="ground: one of"):
        file(citizen, application, ground="bad_weather")
    with pytest.raises(Invalid, match="not about application"):
        file(citizen, application, ground="unethical_behaviour")
    with pytest.raises(NotFound):
        file(other_citizen, application)
    with pytest.raises(Forbidden, match="anonymous complaints are not considered"):
        services.file_complaint(citizen=None, subject="centre", ground="unethical_behaviour",
                                text="rude", centre=centre, now=BEFORE_NAURYZ)
    FeedbackRules.objects.filter(country=mini_country).update(anonymous_complaints=True)
    anonymous = services.file_complaint(citizen=None, subject="centre",
                                        ground="unethical_behaviour", text="rude",
                                        centre=centre, now=BEFORE_NAURYZ)
    assert anonymous.citizen is None
    assert anonymous.centre == centre
    with pytest.raises(Invalid, match="text"):
        services.file_complaint(citizen=citizen, subject="centre", ground="unethical_behaviour",
                                text="  ", centre=centre, now=BEFORE_NAURYZ)


def test_a_complaint_about_an_operator_names_them_by_ones_ticket(
    citizen: User, other_citizen: User, operator: User, manager: User, officer: User,
    make_ticket: Callable[..., Ticket],
) -> None:
    ticket = make_ticket(citizen)
    with pytest.raises(NotFound):
        services.file_complaint(citizen=other_citizen, subject="operator",
                                ground="unethical_behaviour", text="rude", ticket=ticket,
                                now=BEFORE_NAURYZ)
    complaint = services.file_complaint(citizen=citizen, subject="operator",
                                        ground="unethical_behaviour", text="rude",
                                        ticket=ticket, now=BEFORE_NAURYZ)
    assert (complaint.staff, complaint.centre) == (operator, ticket.centre)
    assert services.may_handle(manager, complaint)
    assert not services.may_handle(operator, complaint)  # not about themselves, nor an operator
    assert not services.may_handle(officer, complaint)


def test_extensions_stay_within_the_limit_and_tell_the_citizen(
    citizen: User, officer: User, make_application: Callable[..., Application]
) -> None:
    complaint = file(citizen, make_application(citizen, "refused"))
    at = BEFORE_NAURYZ + timedelta(days=1)
    with pytest.raises(Invalid, match="reason"):
        services.extend(complaint=complaint, user=officer, reason=" ", days=5, now=at)
    extended = services.extend(complaint=complaint, user=officer, reason="expert opinion",
                               days=40, now=at)
    assert extended.extended_to == complaint.deadline_at + timedelta(days=40)
    assert Message.objects.filter(template="complaint_extended",
                                  recipient=citizen.email).count() == 1
    with pytest.raises(Invalid, match="at most 60 days in all \\(40 used\\)"):
        services.extend(complaint=complaint, user=officer, reason="more", days=21, now=at)
    again = services.extend(complaint=complaint, user=officer, reason="more", days=20, now=at)
    assert again.extended_to == complaint.deadline_at + timedelta(days=60)
    with pytest.raises(Conflict, match="deadline has passed"):
        services.extend(complaint=complaint, user=officer, reason="late", days=1,
                        now=again.extended_to + timedelta(minutes=1))


def test_who_decides_at_each_level(
    citizen: User, officer: User, supervisor: User, other_officer: User, manager: User,
    operator: User, controller: User, make_user: Callable[..., User],
    make_application: Callable[..., Application],
) -> None:
    analyst = make_user("analyst")
    admin = make_user("admin")
    complaint = file(citizen, make_application(citizen, "refused"))
    # the provider level: the agency's officers and the supervisors above it
    allowed = {officer, supervisor}
    for user in (officer, supervisor, other_officer, manager, operator, controller, analyst,
                 admin, citizen):
        assert services.may_handle(user, complaint) == (user in allowed), user.role
    with pytest.raises(Forbidden, match="provider level"):
        services.decide(complaint=complaint, user=controller, decision="rejected",
                        reason="no", now=BEFORE_NAURYZ)
    decided = services.decide(complaint=complaint, user=supervisor, decision="rejected",
                              reason="The refusal followed the standard", now=BEFORE_NAURYZ)
    assert (decided.state, decided.decision, decided.handler) == (
        "decided", "rejected", supervisor)
    with pytest.raises(Conflict):
        services.decide(complaint=complaint, user=officer, decision="upheld", reason="x",
                        now=BEFORE_NAURYZ)
    # the control level: the control body only
    upper = services.disagree(complaint=decided, citizen=citizen, reason="I disagree",
                              now=BEFORE_NAURYZ + timedelta(days=1))
    for user in (officer, supervisor, manager, analyst, admin):
        assert not services.may_handle(user, upper)
    assert services.may_handle(controller, upper)


def test_upheld_refusal_flags_the_refund_and_records_the_violation(
    citizen: User, officer: User, make_application: Callable[..., Application]
) -> None:
    application = make_application(citizen, "refused")
    payment = Payment.objects.get(application=application)
    assert payment.status == "paid"
    complaint = file(citizen, application)
    services.assign(complaint=complaint, user=officer, handler=officer, now=BEFORE_NAURYZ)
    services.decide(complaint=complaint, user=officer, decision="upheld",
                    reason="The documents were reliable", now=BEFORE_NAURYZ + timedelta(days=1))
    payment.refresh_from_db()
    assert payment.status == "refund_due"
    violation = Violation.objects.get(kind="unjustified_refusal")
    assert (violation.application, violation.complaint, violation.found_by) == (
        application, complaint, "self")
    assert violation.person == officer  # who refused
    assert violation.agency == application.agency
    assert list(complaint.events.values_list("action", flat=True)) == [
        "registered", "assigned", "decided"]
    entry = AuditEntry.objects.get(action="complaint.decided", subject_id=complaint.number)
    assert entry.data["refusal_unjustified"] is True
    assert entry.data["refund_flagged"] == 1
    application.refresh_from_db()
    assert application.outcome == "refused"  # its history is not rewritten
    assert Message.objects.filter(template="complaint_decided").count() == 1


def test_partly_upheld_at_control_level_is_found_by_control(
    citizen: User, officer: User, controller: User,
    make_application: Callable[..., Application],
) -> None:
    application = make_application(citizen, "refused")
    complaint = file(citizen, application)
    services.decide(complaint=complaint, user=officer, decision="rejected", reason="fine",
                    now=BEFORE_NAURYZ)
    upper = services.disagree(complaint=complaint, citizen=citizen, now=BEFORE_NAURYZ)
    services.decide(complaint=upper, user=controller, decision="partly_upheld",
                    reason="the ground was misapplied", now=BEFORE_NAURYZ)
    assert Payment.objects.get(application=application).status == "refund_due"
    assert Violation.objects.get(kind="unjustified_refusal").found_by == "control"


def test_rejected_or_other_grounds_have_no_refund(
    citizen: User, officer: User, make_application: Callable[..., Application]
) -> None:
    application = make_application(citizen, "refused")
    complaint = file(citizen, application, ground="missed_deadline")
    services.decide(complaint=complaint, user=officer, decision="upheld", reason="late",
                    now=BEFORE_NAURYZ)
    assert Payment.objects.get(application=application).status == "paid"
    assert not Violation.objects.exists()


def test_disagreeing_escalates_once_with_the_control_deadline(
    citizen: User, other_citizen: User, officer: User,
    make_application: Callable[..., Application],
) -> None:
    complaint = file(citizen, make_application(citizen, "refused"))
    with pytest.raises(Conflict, match="only a decided complaint"):
        services.disagree(complaint=complaint, citizen=citizen, now=BEFORE_NAURYZ)
    services.decide(complaint=complaint, user=officer, decision="rejected", reason="fine",
                    now=BEFORE_NAURYZ)
    with pytest.raises(NotFound):
        services.disagree(complaint=complaint, citizen=other_citizen, now=BEFORE_NAURYZ)
    upper = services.disagree(complaint=complaint, citizen=citizen, reason="I disagree",
                              now=BEFORE_NAURYZ)
    complaint.refresh_from_db()
    assert complaint.state == "escalated"
    assert (upper.level, upper.escalated_from, upper.state) == ("control", complaint,
                                                                 "registered")
    # 15 working days from Thu 19 Mar 2026 past Nauryz (23-25 Mar): Tue 14 April
    assert upper.deadline_at == datetime(2026, 4, 14, 18, tzinfo=ALMATY)
    with pytest.raises(Conflict):
        services.disagree(complaint=complaint, citizen=citizen, now=BEFORE_NAURYZ)
    with pytest.raises(Conflict, match="court"):
        services.disagree(complaint=upper, citizen=citizen, now=BEFORE_NAURYZ)
    assert Message.objects.filter(template="complaint_escalated").count() == 1


def test_withdraw_by_the_citizen_only_while_open(
    citizen: User, other_citizen: User, officer: User,
    make_application: Callable[..., Application],
) -> None:
    complaint = file(citizen, make_application(citizen, "refused"))
    with pytest.raises(NotFound):
        services.withdraw(complaint=complaint, citizen=other_citizen, now=BEFORE_NAURYZ)
    assert services.withdraw(complaint=complaint, citizen=citizen,
                             now=BEFORE_NAURYZ).state == "withdrawn"
    with pytest.raises(Conflict):
        services.decide(complaint=complaint, user=officer, decision="upheld", reason="x",
                        now=BEFORE_NAURYZ)


def test_overdue_complaints_escalate_once(
    citizen: User, officer: User, make_application: Callable[..., Application]
) -> None:
    overdue = file(citizen, make_application(citizen, "refused"))
    extended = file(citizen, make_application(citizen, "refused"))
    services.extend(complaint=extended, user=officer, reason="expert", days=10,
                    now=BEFORE_NAURYZ)
    decided = file(citizen, make_application(citizen, "refused"))
    services.decide(complaint=decided, user=officer, decision="rejected", reason="fine",
                    now=BEFORE_NAURYZ)
    assert services.escalate_overdue(overdue.deadline_at) == []  # due, not yet past
    after = overdue.deadline_at + timedelta(minutes=1)
    escalated = services.escalate_overdue(after)
    assert [c.escalated_from for c in escalated] == [overdue]
    assert services.escalate_overdue(after) == []
    assert services.escalate_overdue(after + timedelta(hours=1)) == []
    overdue.refresh_from_db()
    assert overdue.state == "escalated"
    assert Complaint.objects.filter(level="control").count() == 1
    violation = Violation.objects.get(kind="complaint_overdue")
    assert violation.complaint == overdue
    assert violation.found_by == "control"
    # the extended one escalates once its extension has run out
    assert len(services.escalate_overdue(extended.deadline_at + timedelta(days=10, seconds=1))
               ) == 1
    assert Complaint.objects.filter(level="control").count() == 2


def test_the_escalate_command(
    citizen: User, make_application: Callable[..., Application],
    capsys: pytest.CaptureFixture[str],
) -> None:
    file(citizen, make_application(citizen, "refused"))  # long overdue by now
    call_command("complaints", "escalate")
    call_command("complaints", "escalate")
    out = capsys.readouterr().out.splitlines()
    assert out == ["complaints escalated to the control body: 1",
                   "complaints escalated to the control body: 0"]


def test_an_agency_complaint_needs_a_ground_for_agencies(
    citizen: User, mini_country: Country, officer: User, supervisor: User,
) -> None:
    agency = Agency.objects.get(country=mini_country, code="MJ-ZAGS")
    with pytest.raises(Invalid, match="not about agency"):
        services.file_complaint(citizen=citizen, subject="agency", ground="missed_deadline",
                                text="x", agency=agency, now=BEFORE_NAURYZ)
    with pytest.raises(Forbidden):
        services.file_complaint(citizen=officer, subject="agency", ground="missed_deadline",
                                text="x", agency=agency, now=BEFORE_NAURYZ)
