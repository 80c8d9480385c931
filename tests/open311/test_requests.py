"""Creating requests with an API key: each becomes a onestop application or complaint,
and GET follows the case as it moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onestop.accounts.models import User
from onestop.applications import services as applications
from onestop.applications.models import Application
from onestop.catalogue.models import Country, Service
from onestop.feedback import services as feedback
from onestop.feedback.models import Complaint
from onestop.open311.models import ServiceRequest
from tests.open311.conftest import BIRTH, JOBS, NATIONAL_ID, texts, xml

REQUEST_KEYS = ["service_request_id", "status", "status_notes", "service_name",
                "service_code", "description", "agency_responsible", "service_notice",
                "requested_datetime", "updated_datetime", "expected_datetime", "address",
                "address_id", "zipcode", "lat", "long", "media_url"]


def birth_request(api_key: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_key": api_key, "service_code": BIRTH, "first_name": "Aigerim",
        "last_name": "Saparova", "email": "aigerim.sapar@example.kz", "phone": "+77011234567",
        "attribute[applicant_national_id]": NATIONAL_ID,
        "attribute[child_name]": "Aruzhan", "attribute[child_sex]": "female",
        "attribute[child_birth_date]": "2026-11-20", "attribute[twins]": "false",
        "attribute[weight_kg]": "3.4", "attribute[siblings]": "010101500012\n020202600023",
        "attribute[languages][]": ["kk", "ru"], **extra,
    }


def test_a_request_becomes_an_application_and_follows_it(
    o311: Client, birth: Service, citizen: User, officer: User, api_key: str
) -> None:
    answer = o311.post("/open311/v2/requests.xml", birth_request(api_key))
    assert answer.status_code == 201
    root = xml(answer)
    assert root.tag == "service_requests"
    created = texts(root.find("request"))  # type: ignore[arg-type]
    assert list(created) == ["service_request_id", "token", "service_notice", "account_id"]
    record = ServiceRequest.objects.get(public_id=created["service_request_id"])
    application = record.application
    assert application is not None
    assert created["service_notice"].startswith(f"Received as application {application.number}")
    # an application like any other: the open311 channel, the e-form data typed
    assert (application.channel, application.applicant, application.applicant_national_id,
            application.applicant_name, application.applicant_email,
            application.applicant_phone) == (
        "open311", citizen, NATIONAL_ID, "Aigerim Saparova", "aigerim.sapar@example.kz",
        "+77011234567")
    assert application.form_data == {
        "child_name": "Aruzhan", "child_sex": "female", "child_birth_date": "2026-11-20",
        "twins": False, "weight_kg": 3.4, "siblings": ["010101500012", "020202600023"],
        "languages": ["kk", "ru"]}
    assert application.state == "submitted"

    url = f"/open311/v2/requests/{record.public_id}"
    shown = xml(o311.get(url + ".xml"))
    assert shown.tag == "service_requests"
    fields = texts(shown.find("request"))  # type: ignore[arg-type]
    assert list(fields) == REQUEST_KEYS
    assert (fields["status"], fields["status_notes"], fields["service_code"],
            fields["service_name"], fields["agency_responsible"], fields["description"]) == (
        "open", "Submitted", BIRTH, "Registration of a child's birth",
        "Civil Registry Department", "")
    deadline = application.deadline_at.astimezone(mini_zone(application))
    assert fields["expected_datetime"] == deadline.isoformat(timespec="seconds")
    assert fields["service_notice"] == "The service standard's deadline is 1 working day."
    assert fields["lat"] == fields["long"] == fields["media_url"] == ""

    token = o311.get(f"/open311/v2/tokens/{created['token']}.json").json()
    assert token == [{"service_request_id": record.public_id, "token": created["token"]}]

    # the officer decides: the request is closed, with the state's words
    result = applications.UploadedDocument("result", "cert.pdf", "application/pdf", b"%PDF")
    application = applications.act(application=application, user=officer, action="accept")
    assert o311.get(url + ".json").json()[0]["status_notes"] == "In review"
    application = applications.act(application=application, user=officer, action="approve",
                                   result_document=result)
    application = applications.act(application=application, user=officer, action="issue")
    data = o311.get(url + ".json").json()
    assert len(data) == 1
    assert (data[0]["status"], data[0]["status_notes"]) == ("closed", "Result issued")
    last_event = application.events.order_by("-at").first()
    assert last_event is not None
    assert data[0]["updated_datetime"] == last_event.at.astimezone(
        mini_zone(application)).isoformat(timespec="seconds")
    assert data[0]["description"] is None
    assert data[0]["lat"] is None


def mini_zone(application: Application) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(application.country.time_zone)


def test_a_refusal_is_closed_with_the_standard_s_ground(
    o311: Client, birth: Service, officer: User, api_key: str
) -> None:
    # nobody holds this national ID: the application carries it, with no account
    answer = o311.post("/open311/v2/requests.json", birth_request(
        api_key, **{"attribute[applicant_national_id]": "880202400055"}))
    record = ServiceRequest.objects.get(public_id=answer.json()[0]["service_request_id"])
    application = record.application
    assert application is not None
    assert application.applicant is None
    application = applications.act(application=application, user=officer, action="accept")
    applications.act(application=application, user=officer, action="refuse",
                     ground="unreliable", comment="The mother's passport was forged")
    data = o311.get(f"/open311/v2/requests/{record.public_id}.json").json()[0]
    assert (data["status"], data["status_notes"]) == ("closed", "Refused: Unreliable documents")
    assert "forged" not in str(data)


def test_an_instant_service_is_closed_at_once(
    o311: Client, mini_country: Country, api_key: str
) -> None:
    answer = o311.post("/open311/v2/requests.json", {
        "api_key": api_key, "service_code": JOBS,
        "attribute[applicant_national_id]": NATIONAL_ID})
    assert answer.status_code == 201
    public_id = answer.json()[0]["service_request_id"]
    data = o311.get(f"/open311/v2/requests/{public_id}.json").json()[0]
    assert (data["status"], data["status_notes"], data["agency_responsible"]) == (
        "closed", "Result issued", "Ministry of Labour")


def test_a_retry_with_the_same_idempotency_key_files_once(
    o311: Client, birth: Service, api_key: str
) -> None:
    first = o311.post("/open311/v2/requests.json", birth_request(api_key),
                      headers={"Idempotency-Key": "abc-1"})
    again = o311.post("/open311/v2/requests.json", birth_request(api_key),
                      headers={"Idempotency-Key": "abc-1"})
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert Application.objects.count() == ServiceRequest.objects.count() == 1


def complaint_request(api_key: str, number: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_key": api_key, "service_code": "complaint-unjustified_refusal",
        "attribute[applicant_national_id]": NATIONAL_ID,
        "attribute[application_number]": number,
        "description": "I was refused although my documents were in order", **extra,
    }


@pytest.fixture
def refused(birth: Service, citizen: User, officer: User) -> Application:
    application = applications.submit(
        service=birth, form_data={"child_name": "Aruzhan", "child_sex": "female",
                                  "child_birth_date": "2026-11-20"},
        channel="portal", national_id=NATIONAL_ID, applicant=citizen, submitted_by=citizen,
    ).application
    application = applications.act(application=application, user=officer, action="accept")
    return applications.act(application=application, user=officer, action="refuse",
                            ground="unreliable", comment="refused")


def test_a_complaint_request_follows_the_complaint_through_its_levels(
    o311: Client, refused: Application, citizen: User, officer: User, controller: User,
    api_key: str,
) -> None:
    answer = o311.post("/open311/v2/requests.json", complaint_request(api_key, refused.number))
    assert answer.status_code == 201, answer.content
    created = answer.json()[0]
    record = ServiceRequest.objects.get(public_id=created["service_request_id"])
    complaint = record.complaint
    assert complaint is not None
    assert created["service_notice"] == f"Registered as complaint {complaint.number}."
    assert (complaint.citizen, complaint.application, complaint.ground, complaint.subject,
            complaint.text) == (citizen, refused, "unjustified_refusal", "application",
                                "I was refused although my documents were in order")
    url = f"/open311/v2/requests/{record.public_id}.json"
    data = o311.get(url).json()[0]
    assert (data["status"], data["status_notes"], data["service_name"],
            data["agency_responsible"], data["service_notice"], data["description"]) == (
        "open", "Registered, awaiting review", "Complaint: Unjustified refusal",
        "Civil Registry Department", "A complaint is answered within 5 working days by law.",
        None)
    assert data["expected_datetime"] == complaint.deadline_at.astimezone(
        mini_zone(refused)).isoformat(timespec="seconds")

    feedback.decide(complaint=complaint, user=officer, decision="rejected",
                    reason="The documents were not reliable")
    data = o311.get(url).json()[0]
    assert (data["status"], data["status_notes"]) == ("closed", "Decided: rejected")
    assert "reliable" not in str(data)

    # the citizen disagrees: the request goes on at the control level, open again
    upper = feedback.disagree(complaint=complaint, citizen=citizen, reason="no")
    data = o311.get(url).json()[0]
    assert (data["status"], data["status_notes"], data["agency_responsible"]) == (
        "open", "Taken to the quality-control body, awaiting review",
        "the quality-control body")
    assert o311.get("/open311/v2/requests.json?status=open").json()[0][
        "service_request_id"] == record.public_id
    feedback.decide(complaint=upper, user=controller, decision="upheld", reason="right")
    data = o311.get(url).json()[0]
    assert (data["status"], data["status_notes"]) == ("closed", "Decided: upheld")
    assert o311.get("/open311/v2/requests.json?status=open").json() == []


def test_complaints_about_a_centre_and_the_account_rule(
    o311: Client, mini_country: Country, citizen: User, api_key: str
) -> None:
    about_centre = {
        "api_key": api_key, "service_code": "complaint-unethical_behaviour",
        "attribute[applicant_national_id]": NATIONAL_ID, "attribute[centre]": "AST-01",
        "description": "The guard was rude",
    }
    answer = o311.post("/open311/v2/requests.json", about_centre)
    assert answer.status_code == 201, answer.content
    complaint = Complaint.objects.get()
    assert (complaint.subject, complaint.centre.code, complaint.citizen) == (  # type: ignore[union-attr]
        "centre", "AST-01", citizen)
    data = o311.get(f"/open311/v2/requests/{answer.json()[0]['service_request_id']}.json").json()
    assert (data[0]["agency_responsible"], data[0]["address"]) == (
        "Astana Centre No. 1", "8 Mangilik Yel")
    # the pack refuses anonymous complaints: a national ID without an account is refused
    stranger = o311.post("/open311/v2/requests.json", {
        **about_centre, "attribute[applicant_national_id]": "770707700077"})
    assert stranger.status_code == 400
    assert "no citizen account holds this national ID" in stranger.json()[0]["description"]
    anonymous = {k: v for k, v in about_centre.items()
                 if k != "attribute[applicant_national_id]"}
    refused = o311.post("/open311/v2/requests.json", anonymous)
    assert refused.status_code == 403
    assert refused.json()[0]["description"] == (
        "anonymous complaints are not considered: sign in to complain")
    assert Complaint.objects.count() == 1


def test_a_complaint_names_only_one_s_own_application(
    o311: Client, refused: Application, make_user: Callable[..., User], api_key: str
) -> None:
    make_user("citizen", national_id="660606600066")
    answer = o311.post("/open311/v2/requests.json", complaint_request(
        api_key, refused.number, **{"attribute[applicant_national_id]": "660606600066"}))
    assert answer.status_code == 404
    assert answer.json()[0]["description"] == (
        "attribute[application_number]: no such application of this citizen")
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(("change", "status", "description"), [
    ({"service_code": ""}, 400, "service_code: required"),
    ({"service_code": "12345678"}, 404, "service_code: no service 12345678"),
    ({"attribute[applicant_national_id]": ""}, 400,
     "attribute[applicant_national_id]: required: the applicant's national identification "
     "number"),
    ({"attribute[applicant_national_id]": "12"}, 400,
     "attribute[applicant_national_id]: a national identification number of 6-32 letters "
     "or digits"),
    ({"attribute[weight_kg]": "heavy"}, 400, "attribute[weight_kg]: must be a number"),
    ({"attribute[twins]": "maybe"}, 400, "attribute[twins]: must be true or false"),
    ({"attribute[eye_colour]": "brown"}, 400,
     "attribute[eye_colour]: is not an attribute of this service"),
    ({"attribute[child_sex]": "other"}, 400,
     "attribute[child_sex]: must be one of: male, female"),
    ({"email": "not-an-email"}, 400, "email: not an email address"),
    ({"jurisdiction_id": "qq"}, 404, "jurisdiction_id: no jurisdiction qq here"),
])
def test_bad_input_is_refused_in_the_spec_shape(
    o311: Client, birth: Service, api_key: str, change: dict[str, str], status: int,
    description: str,
) -> None:
    answer = o311.post("/open311/v2/requests.json", birth_request(api_key, **change))
    assert answer.status_code == status
    assert {"code": status, "description": description} in answer.json()
    assert not Application.objects.exists()


def test_a_missing_required_field_is_named(o311: Client, birth: Service, api_key: str) -> None:
    data = birth_request(api_key)
    del data["attribute[child_name]"]
    answer = o311.post("/open311/v2/requests.xml", data)
    assert answer.status_code == 400
    assert [texts(e) for e in xml(answer).findall("error")] == [
        {"code": "400", "description": "attribute[child_name]: this field is required"}]


def test_the_list_and_its_filters(
    o311: Client, birth: Service, mini_country: Country, api_key: str
) -> None:
    ids = [o311.post("/open311/v2/requests.json", birth_request(api_key)).json()[0][
        "service_request_id"] for _ in range(2)]
    jobs = o311.post("/open311/v2/requests.json", {
        "api_key": api_key, "service_code": JOBS,
        "attribute[applicant_national_id]": NATIONAL_ID}).json()[0]["service_request_id"]
    old = ServiceRequest.objects.get(public_id=ids[0])
    old.requested_at = timezone.now() - timedelta(days=100)
    old.save()

    root = xml(o311.get("/open311/v2/requests.xml"))
    assert root.tag == "service_requests"
    # the default window is the last 90 days, newest first
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [jobs, ids[1]]
    assert all(list(texts(r)) == REQUEST_KEYS for r in root.findall("request"))

    def listed(query: str) -> list[str]:
        answer = o311.get(f"/open311/v2/requests.json?{query}")
        assert answer.status_code == 200, answer.content
        return [r["service_request_id"] for r in answer.json()]

    assert listed(f"service_code={JOBS}") == [jobs]
    assert listed("status=closed") == [jobs]
    assert listed("status=open") == [ids[1]]
    assert listed("status=open,closed") == [jobs, ids[1]]
    start = (timezone.now() - timedelta(days=120)).isoformat()
    end = (timezone.now() - timedelta(days=50)).isoformat()
    assert listed(f"start_date={start}&end_date={end}".replace("+", "%2B")) == [ids[0]]
    # ids override every other filter (the spec): the old one and the closed one
    assert listed(f"service_request_id={ids[0]},{jobs}&status=open") == [jobs, ids[0]]


@pytest.mark.parametrize(("query", "description"), [
    ("status=pending", "status: open or closed"),
    ("start_date=yesterday", "start_date: a date and time in ISO 8601, e.g. "
                             "2026-11-05T08:15:30+05:00"),
    ("start_date=2026-01-01&end_date=2026-06-01", "start_date, end_date: at most 90 days apart"),
    ("start_date=2026-06-01&end_date=2026-01-01", "end_date: before start_date"),
])
def test_bad_filters(o311: Client, mini_country: Country, query: str, description: str) -> None:
    answer = o311.get(f"/open311/v2/requests.json?{query}")
    assert answer.status_code == 400
    assert answer.json() == [{"code": 400, "description": description}]


def test_the_list_reads_a_fixed_number_of_queries(
    o311: Client, birth: Service, refused: Application, api_key: str
) -> None:
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert o311.get("/open311/v2/requests.json").status_code == 200
        return len(queries)

    o311.post("/open311/v2/requests.json", birth_request(api_key))
    o311.post("/open311/v2/requests.json", complaint_request(api_key, refused.number))
    few = count_queries()
    o311.post("/open311/v2/requests.json", birth_request(api_key))
    o311.post("/open311/v2/requests.json", {
        "api_key": api_key, "service_code": "complaint-unethical_behaviour",
        "attribute[applicant_national_id]": NATIONAL_ID, "attribute[centre]": "AST-01",
        "description": "Too long a wait"})
    assert len(o311.get("/open311/v2/requests.json").json()) == 4
    assert count_queries() == few


def test_machine_clients_need_no_csrf_token(birth: Service, api_key: str) -> None:
    strict = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    assert strict.post("/open311/v2/requests.json", birth_request(api_key)).status_code == 201


def test_a_broken_constraint_is_explained_in_the_language_asked_for(
    birth: Service, api_key: str
) -> None:
    russian = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ru")
    answer = russian.post("/open311/v2/requests.json",
                          birth_request(api_key, **{"attribute[child_sex]": "other"}))
    assert answer.status_code == 400
    expected = "attribute[child_sex]: должно быть одним из: male, female"
    assert {"code": 400, "description": expected} in answer.json()
    assert not Application.objects.exists()
