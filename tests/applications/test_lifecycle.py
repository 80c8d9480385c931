"""The lifecycle through the services: submit, request documents (clock stops), answer
(clock runs), approve, issue; with the events, audit entries and notifications it leaves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from onestop.accounts.models import User
from onestop.applications import services
from onestop.applications.errors import Conflict, Forbidden, NotFound, SubmissionInvalid
from onestop.applications.models import Application, Payment
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Country, Service
from onestop.notifications.models import Message

ALMATY = ZoneInfo("Asia/Almaty")
PDF = services.UploadedDocument("id_card", "id.pdf", "application/pdf", b"%PDF-1.4 test")


@pytest.fixture
def birth(mini_country: Country) -> Service:
    return Service.objects.get(country=mini_country, code="01010001")


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> User:
    user = make_user("citizen", national_id="900101300011")
    user.email = "aigerim@example.kz"
    user.save()
    return user


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user("officer", agency_code="MJ-ZAGS", country_code="zz")


def submit(service: Service, citizen: User, at: datetime, **extra: object) -> Application:
    result = services.submit(
        service=service, form_data={"child_name": "Aruzhan"}, channel="portal",
        national_id="900101300011", applicant=citizen, submitted_by=citizen,
        email=citizen.email, now=at, **extra,  # type: ignore[arg-type]
    )
    return result.application


def test_the_whole_path_with_a_stopped_clock(birth: Service, citizen: User, officer: User) -> None:
    # Mon 16 Nov 2026 10:00, 1 working day under the 2026 standard: Tue 17 Nov 18:00.
    submitted = datetime(2026, 11, 16, 10, tzinfo=ALMATY)
    application = submit(birth, citizen, submitted)
    assert application.state == "submitted"
    assert application.deadline_at == datetime(2026, 11, 17, 18, tzinfo=ALMATY)
    assert application.standard.valid_from.isoformat() == "2026-03-10"
    assert Payment.objects.get(application=application).amount == application.fee_amount

    services.act(application=application, user=officer, action="accept",
                 now=submitted + timedelta(hours=1))
    # documents requested Tue 17 Nov 15:00 (3 working hours left) ...
    stopped = datetime(2026, 11, 17, 15, tzinfo=ALMATY)
    application = services.act(
        application=application, user=officer, action="request_documents",
        comment="Please upload the medical birth record", requested_documents=["id_card"],
        now=stopped,
    )
    assert application.state == "awaiting_applicant"
    assert application.clock_stopped_at == stopped
    # ... answered Mon 23 Nov 11:00: the clock stood for Tue 15-18 (3 h), Wed-Fri
    # (3 x 9 h) and Mon 9-11 (2 h) = 32 working hours, so the deadline moves from
    # Tue 17 Nov 18:00 by 32 working hours: to Mon 23 Nov 14:00.
    resumed = datetime(2026, 11, 23, 11, tzinfo=ALMATY)
    application = services.act(application=application, user=citizen,
                               action="provide_documents", documents=[PDF], now=resumed)
    assert application.state == "in_review"
    assert application.clock_stopped_at is None
    assert application.stopped_seconds == 32 * 3600
    assert application.deadline_at == datetime(2026, 11, 23, 14, tzinfo=ALMATY)

    result = services.UploadedDocument("result", "cert.pdf", "application/pdf", b"%PDF cert")
    application = services.act(application=application, user=officer, action="approve",
                               result_document=result, now=resumed + timedelta(hours=1))
    application = services.act(application=application, user=officer, action="issue",
                               now=resumed + timedelta(hours=2))
    assert (application.state, application.outcome) == ("issued", "issued")
    assert application.completed_at <= application.deadline_at

    events = list(application.events.values_list("action", "from_state", "to_state", "clock"))
    assert events == [
        ("submit", "", "submitted", ""),
        ("accept", "submitted", "in_review", ""),
        ("request_documents", "in_review", "awaiting_applicant", "stop"),
        ("provide_documents", "awaiting_applicant", "in_review", "resume"),
        ("approve", "in_review", "approved", ""),
        ("issue", "approved", "issued", ""),
    ]
    audit = AuditEntry.objects.filter(subject_id=application.number)
    assert audit.count() == 6
    templates = list(Message.objects.filter(subject_id=application.number)
                     .order_by("pk").values_list("template", flat=True))
    assert templates == ["application_submitted", "documents_requested",
                         "application_approved", "result_issued", "rate_service"]


def test_every_form_and_document_problem_at_once(birth: Service, citizen: User) -> None:
    with pytest.raises(SubmissionInvalid) as caught:
        services.submit(
            service=birth, form_data={"child_name": 5, "extra": "x"}, channel="centre",
            national_id="12", applicant=citizen, submitted_by=citizen,
            documents=[services.UploadedDocument("passport", "a.exe", "application/x-exe",
                                                 b"MZ")],
        )
    problems = caught.value.problems
    assert problems["national_id"]
    assert problems["form.child_name"] == ["must be text"]
    assert problems["documents.passport"] == [
        "is not a document this service asks the applicant for",
        "must be a PDF, JPEG or PNG file",
    ]
    assert Application.objects.count() == 0


def test_channel_not_offered(mini_country: Country, citizen: User) -> None:
    jobs = Service.objects.get(country=mini_country, code="02020001")  # portal only
    with pytest.raises(SubmissionInvalid) as caught:
        services.submit(service=jobs, form_data={}, channel="centre",
                        national_id="900101300011", applicant=citizen, submitted_by=citizen)
    assert caught.value.problems == {
        "channel": ["this service is not offered through the centre channel"]
    }


def test_instant_service_is_issued_at_once(mini_country: Country, citizen: User) -> None:
    jobs = Service.objects.get(country=mini_country, code="02020001")
    result = services.submit(service=jobs, form_data={}, channel="portal",
                             national_id="900101300011", applicant=citizen,
                             submitted_by=citizen)
    assert (result.application.state, result.application.outcome) == ("issued", "issued")
    assert [e.actor_role for e in result.application.events.all()] == ["citizen", "system"]


def test_idempotency_key_returns_the_first_result(birth: Service, citizen: User) -> None:
    first = services.submit(service=birth, form_data={"child_name": "A"}, channel="portal",
                            national_id="900101300011", applicant=citizen,
                            submitted_by=citizen, idempotency_key="k-1")
    again = services.submit(service=birth, form_data={"child_name": "A"}, channel="portal",
                            national_id="900101300011", applicant=citizen,
                            submitted_by=citizen, idempotency_key="k-1")
    assert again.created is False
    assert again.application.pk == first.application.pk
    assert again.access_code == first.access_code
    assert Application.objects.count() == 1
    with pytest.raises(Conflict):
        services.submit(service=birth, form_data={"child_name": "B"}, channel="portal",
                        national_id="900101300011", applicant=citizen,
                        submitted_by=citizen, idempotency_key="k-1")


def test_roles_and_scopes(birth: Service, citizen: User, officer: User,
                          make_user: Callable[..., User]) -> None:
    application = submit(birth, citizen, datetime(2026, 11, 16, 10, tzinfo=ALMATY))
    other_citizen = make_user("citizen")
    other_agency = make_user("officer", agency_code="MLSP", country_code="zz")
    with pytest.raises(NotFound):
        services.act(application=application, user=other_citizen, action="withdraw")
    with pytest.raises(NotFound):
        services.act(application=application, user=other_agency, action="accept")
    with pytest.raises(Forbidden,
                       match="a citizen may not take accept while the application is submitted"):
        services.act(application=application, user=citizen, action="accept")
    with pytest.raises(Forbidden, match="cannot be taken while the application is submitted"):
        services.act(application=application, user=officer, action="approve")
    services.act(application=application, user=officer, action="accept")
    with pytest.raises(SubmissionInvalid) as caught:
        services.act(application=application, user=officer, action="refuse", ground="whim",
                     comment="no")
    assert "not a ground for refusal" in caught.value.problems["ground"][0]
    refused = services.act(application=application, user=officer, action="refuse",
                           ground="unreliable", comment="The record does not match")
    assert (refused.outcome, refused.refusal_ground) == ("refused", "unreliable")


def test_access_code_checks(birth: Service, citizen: User) -> None:
    result = services.submit(service=birth, form_data={"child_name": "A"}, channel="portal",
                             national_id="900101300011", applicant=citizen,
                             submitted_by=citizen)
    assert services.access_code_matches(result.application, result.access_code.lower())
    assert not services.access_code_matches(result.application, "WRONG")
