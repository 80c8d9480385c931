"""The lifecycle over the API, the authorisation matrix, and the public status check."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.audit.models import AuditEntry
from onestop.audit.selectors import verify_chain
from onestop.catalogue.models import Country
from onestop.notifications.models import Message

PDF = {"code": "id_card", "filename": "id.pdf", "content_type": "application/pdf",
       "content_base64": base64.b64encode(b"%PDF-1.4 a scan").decode()}


@pytest.fixture(autouse=True)
def _country(settings, mini_country: Country) -> None:  # type: ignore[no-untyped-def]
    settings.ONESTOP_COUNTRY = "zz"


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> User:
    return make_user("citizen", national_id="900101300011")


def post(client: Client, path: str, body: object, **headers: str) -> object:
    return client.post(path, body, content_type="application/json", **headers)


def test_citizen_submits_officer_requests_citizen_answers_officer_approves(
    citizen: User, make_user: Callable[..., User], api_client: Callable[[User | None], Client],
) -> None:
    me = api_client(citizen)
    officer = api_client(make_user("officer", agency_code="MJ-ZAGS", country_code="zz"))
    created = post(me, "/api/v1/applications",
                   {"service": "01010001", "form": {"child_name": "Aruzhan"}},
                   HTTP_IDEMPOTENCY_KEY="first-try")
    assert created.status_code == 201, created.content
    body = created.json()
    number, code = body["number"], body["access_code"]
    assert body["state"] == "submitted"
    assert body["actions"] == ["withdraw"]
    retry = post(me, "/api/v1/applications",
                 {"service": "01010001", "form": {"child_name": "Aruzhan"}},
                 HTTP_IDEMPOTENCY_KEY="first-try")
    assert retry.status_code == 200
    assert (retry.json()["number"], retry.json()["access_code"]) == (number, code)
    assert Application.objects.count() == 1

    inbox = officer.get("/api/v1/inbox").json()
    assert [item["number"] for item in inbox["items"]] == [number]
    accepted = post(officer, f"/api/v1/applications/{number}/actions", {"action": "accept"})
    assert accepted.json()["actions"] == ["request_documents", "approve", "refuse"]
    stopped = post(officer, f"/api/v1/applications/{number}/actions", {
        "action": "request_documents", "comment": "Upload your ID card",
        "requested_documents": ["id_card"]})
    assert stopped.json()["clock_running"] is False
    answered = post(me, f"/api/v1/applications/{number}/actions",
                    {"action": "provide_documents", "documents": [PDF]})
    assert answered.status_code == 200, answered.content
    assert answered.json()["clock_running"] is True
    result = {**PDF, "code": "birth_certificate", "filename": "certificate.pdf"}
    approved = post(officer, f"/api/v1/applications/{number}/actions",
                    {"action": "approve", "result_document": result})
    issued = post(officer, f"/api/v1/applications/{number}/actions", {"action": "issue"})
    assert approved.status_code == issued.status_code == 200
    final = me.get(f"/api/v1/applications/{number}").json()
    assert (final["state"], final["outcome"]) == ("issued", "issued")
    result_doc = next(d for d in final["documents"] if d["kind"] == "result")
    download = me.get(f"/api/v1/applications/{number}/documents/{result_doc['id']}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 a scan"
    history = me.get(f"/api/v1/applications/{number}/events").json()
    assert [e["action"] for e in history] == [
        "submit", "accept", "request_documents", "provide_documents", "approve", "issue"]
    public = Client().get(f"/api/v1/public/applications/{number}", {"code": code})
    assert public.json()["state"] == "issued"
    assert "900101300011" not in public.content.decode()


def test_operator_submits_at_the_counter(
    make_user: Callable[..., User], api_client: Callable[[User | None], Client]
) -> None:
    operator = api_client(make_user("operator", centre_code="AST-01", country_code="zz"))
    missing = post(operator, "/api/v1/applications",
                   {"service": "01010001", "form": {"child_name": "A"}})
    assert missing.status_code == 422
    assert "national_id" in missing.json()["detail"]
    created = post(operator, "/api/v1/applications", {
        "service": "01010001", "form": {"child_name": "A"}, "national_id": "850505400022",
        "applicant_name": "Dana Seitkali", "phone": "+77010000000"})
    assert created.status_code == 201, created.content
    application = Application.objects.get(number=created.json()["number"])
    assert (application.channel, application.centre.code) == ("centre", "AST-01")
    assert application.region.code == "AST"


def test_authorisation_matrix(
    citizen: User, make_user: Callable[..., User], api_client: Callable[[User | None], Client],
) -> None:
    number = post(api_client(citizen), "/api/v1/applications",
                  {"service": "01010001", "form": {"child_name": "A"}}).json()["number"]
    stranger = api_client(make_user("citizen", national_id="111111111111"))
    other_agency = api_client(make_user("officer", agency_code="MLSP", country_code="zz"))
    own_officer = api_client(make_user("officer", agency_code="MJ-ZAGS", country_code="zz"))
    controller = api_client(make_user("controller"))
    assert stranger.get(f"/api/v1/applications/{number}").status_code == 404
    assert other_agency.get(f"/api/v1/applications/{number}").status_code == 404
    assert own_officer.get(f"/api/v1/applications/{number}").status_code == 200
    assert controller.get(f"/api/v1/applications/{number}").status_code == 200
    refused = post(controller, f"/api/v1/applications/{number}/actions", {"action": "accept"})
    assert refused.status_code == 403
    wrong_role = post(api_client(citizen), f"/api/v1/applications/{number}/actions",
                      {"action": "accept"})
    assert wrong_role.status_code == 403
    assert "a citizen may not take accept while" in wrong_role.json()["detail"]
    assert stranger.get("/api/v1/inbox").status_code == 403
    assert Client().get(f"/api/v1/applications/{number}").status_code == 401


def test_supervisor_reassigns_within_the_agency_only(
    citizen: User, make_user: Callable[..., User], api_client: Callable[[User | None], Client],
) -> None:
    number = post(api_client(citizen), "/api/v1/applications",
                  {"service": "01010001", "form": {"child_name": "A"}}).json()["number"]
    supervisor = api_client(make_user("supervisor", agency_code="MJ", country_code="zz"))
    colleague = make_user("officer", agency_code="MJ-ZAGS", country_code="zz")
    outsider = make_user("officer", agency_code="MLSP", country_code="zz")
    ok = post(supervisor, f"/api/v1/applications/{number}/assign",
              {"assignee": colleague.username})
    assert ok.json()["assigned_to"] == colleague.username
    no = post(supervisor, f"/api/v1/applications/{number}/assign",
              {"assignee": outsider.username})
    assert no.status_code == 403
    mine = api_client(colleague).get("/api/v1/inbox", {"mine": "true"}).json()
    assert [i["number"] for i in mine["items"]] == [number]


def test_public_status_needs_the_right_code(citizen: User,
                                            api_client: Callable[[User | None], Client]) -> None:
    number = post(api_client(citizen), "/api/v1/applications",
                  {"service": "01010001", "form": {"child_name": "A"}}).json()["number"]
    wrong = Client().get(f"/api/v1/public/applications/{number}", {"code": "WRONGCODE"})
    unknown = Client().get("/api/v1/public/applications/ZZ-000000-AAAAAA", {"code": "WRONGCODE"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_bad_submissions_list_every_problem(
    citizen: User, api_client: Callable[[User | None], Client]
) -> None:
    me = api_client(citizen)
    answer = post(me, "/api/v1/applications", {
        "service": "01010001", "form": {"child_name": 7},
        "documents": [{**PDF, "code": "nonsense", "content_type": "text/html"}]})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "form.child_name" in detail
    assert "documents.nonsense" in detail
    assert post(me, "/api/v1/applications", {"service": "99999999", "form": {}}).status_code \
        == 404
    bad64 = post(me, "/api/v1/applications", {
        "service": "01010001", "form": {"child_name": "A"},
        "documents": [{**PDF, "content_base64": "***"}]})
    assert bad64.status_code == 422


SCAN = {"code": "id_document", "filename": "id.pdf", "content_type": "application/pdf",
        "content_base64": base64.b64encode(b"%PDF-1.4 " + b"0" * 2000).decode()}
RECORD_REQUEST = {
    "service": "10220001", "country": "kz",
    "form": {"iin": "900101300011", "purpose": "employment", "format": "electronic"},
    "documents": [SCAN],
}


def test_a_submission_answers_with_what_it_wrote_without_reading_it_back(
    kz: Country, citizen: User, api_client: Callable[[User | None], Client],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    citizen.email = "citizen@example.kz"
    citizen.save(update_fields=["email"])
    me = api_client(citizen)
    post(me, "/api/v1/applications", RECORD_REQUEST, HTTP_IDEMPOTENCY_KEY="warm-up")
    # the revisions of the accounts and the register in one read (token, service and
    # workflow kept), the writes, the audit chain's head (moved by its own statement on
    # SQLite): no read-back
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 10):
        created = post(me, "/api/v1/applications", RECORD_REQUEST, HTTP_IDEMPOTENCY_KEY="k1")
    assert created.status_code == 201, created.content
    body = created.json()
    application = Application.objects.get(number=body["number"])
    assert (body["state"], application.state) == ("issued", "issued")
    document = application.documents.get()
    assert body["documents"] == [{
        "id": document.pk, "code": "id_document", "kind": "submitted", "size": 2009,
        "uploaded_at": body["documents"][0]["uploaded_at"]}]
    with document.file.open("rb") as stored:
        assert stored.read() == base64.b64decode(SCAN["content_base64"])
    assert body["clock_running"] is True
    assert body["working_seconds_left"] == me.get(
        f"/api/v1/applications/{application.number}").json()["working_seconds_left"]
    events = list(application.events.order_by("pk"))
    assert [e.action for e in events] == ["submit", "issue"]
    # issued in the moment it was submitted: told the result, not "received" before it
    messages = Message.objects.filter(subject_id=application.number).order_by("pk")
    assert [m.template for m in messages] == ["result_issued", "rate_service"]
    # the rating's link opens the rating page and marks where the rating came from
    assert messages[1].context["rate_url"] == (
        f"/feedback/rate/{application.number}/?from=notification")
    assert {m.recipient for m in messages} == {"citizen@example.kz"}
    entries = list(AuditEntry.objects.filter(subject_id=application.number)
                   .order_by("sequence"))
    assert [(e.action, e.data["event"]) for e in entries] == [
        ("application.submit", events[0].pk), ("application.issue", events[1].pk)]
    assert entries[1].prev_hash == entries[0].hash
    assert verify_chain().ok


def test_the_applicants_own_national_id_is_filled_in_and_no_other_is_taken(
    kz: Country, citizen: User, api_client: Callable[[User | None], Client],
) -> None:
    """The kz pack marks each e-form's "Applicant's IIN" as the applicant's own
    (`x-applicant-id`): left out, it is the applicant's; another number is refused."""
    me = api_client(citizen)
    form = {k: v for k, v in RECORD_REQUEST["form"].items() if k != "iin"}  # type: ignore
    created = post(me, "/api/v1/applications", {**RECORD_REQUEST, "form": form})
    assert created.status_code == 201, created.content
    assert Application.objects.get().form_data["iin"] == citizen.national_id

    someone_else = {**RECORD_REQUEST, "form": {**form, "iin": "850505400022"}}
    refused = post(me, "/api/v1/applications", someone_else)
    assert refused.status_code == 422
    assert ("form.iin: must be the applicant's own national ID number, the one the "
            "application is made for (leave it out to have it filled in)"
            in refused.json()["detail"])
    assert "850505400022" not in refused.content.decode()
    assert Application.objects.count() == 1


def test_the_applicants_phone_is_one_in_the_eform_and_on_the_application(
    kz: Country, citizen: User, api_client: Callable[[User | None], Client],
) -> None:
    """The kz pack marks a name change's "Mobile phone number" as the applicant's own
    (`x-applicant-phone`): the application's contact fills it when it is left out, and the
    e-form's phone is the contact when the request gives none (the citizen is told by SMS)."""
    citizen.email = ""
    citizen.save(update_fields=["email"])
    me = api_client(citizen)
    name_change = {"service": "01020002", "country": "kz", "form": {"reason": "marriage"},
                   "documents": [SCAN]}

    contact = post(me, "/api/v1/applications", {**name_change, "phone": "+77015550101"})
    in_form = post(me, "/api/v1/applications",
                   {**name_change, "form": {"reason": "marriage", "phone": "+77015550102"}})
    # a contact written otherwise is kept as the contact, and not put into the e-form
    unformatted = post(me, "/api/v1/applications", {**name_change, "phone": "8 701 555 0103"})

    assert [r.status_code for r in (contact, in_form, unformatted)] == [201, 201, 201]
    rows = {a.number: a for a in Application.objects.all()}
    first, second, third = (rows[r.json()["number"]] for r in (contact, in_form, unformatted))
    assert (first.form_data.get("phone"), first.applicant_phone) == (
        "+77015550101", "+77015550101")
    assert (second.form_data.get("phone"), second.applicant_phone) == (
        "+77015550102", "+77015550102")
    assert ("phone" in third.form_data, third.applicant_phone) == (False, "8 701 555 0103")
    told = Message.objects.filter(subject_id=second.number, template="application_submitted")
    assert [(m.channel, m.recipient) for m in told] == [("sms", "+77015550102")]


def test_a_retry_is_recognised_by_its_key_whatever_it_would_fail_on_now(
    kz: Country, citizen: User, api_client: Callable[[User | None], Client],
) -> None:
    me = api_client(citizen)
    first = post(me, "/api/v1/applications", RECORD_REQUEST, HTTP_IDEMPOTENCY_KEY="once")
    assert first.status_code == 201, first.content
    rows = (Application.objects.count(), Message.objects.count(), AuditEntry.objects.count())
    retry = post(me, "/api/v1/applications", RECORD_REQUEST, HTTP_IDEMPOTENCY_KEY="once")
    assert retry.status_code == 200
    assert retry.json()["number"] == first.json()["number"]
    assert [d["id"] for d in retry.json()["documents"]] == [
        d["id"] for d in first.json()["documents"]]
    # the same key for another request is a conflict, even when that request is invalid
    other = {**RECORD_REQUEST, "form": {"iin": "not a number"}}
    assert post(me, "/api/v1/applications", other,
                HTTP_IDEMPOTENCY_KEY="once").status_code == 409
    changed = {**RECORD_REQUEST, "form": {**RECORD_REQUEST["form"], "purpose": "other"}}
    assert post(me, "/api/v1/applications", changed,
                HTTP_IDEMPOTENCY_KEY="once").status_code == 409
    assert (Application.objects.count(), Message.objects.count(),
            AuditEntry.objects.count()) == rows
    assert post(me, "/api/v1/applications", other,
                HTTP_IDEMPOTENCY_KEY="fresh").status_code == 422
