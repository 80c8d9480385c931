"""Application files, tasks and documents through the GovStack façade, with who may
see and do what."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.applications.models import Application, ApplicationEvent
from onestop.catalogue.models import Country
from onestop.govstack.models import ExternalId, Kind, Member, Upload
from onestop.govstack.services import FIXTURE_FILES, FIXTURE_USER
from tests.govstack.conftest import assert_matches

pytestmark = pytest.mark.django_db

MCTS = "f7d33db0-2809-484e-a780-76b7ccd4ecbf"
MCTS_FORM = "d98a205a-679b-485b-823d-7a32a391e744"
FILE = "81c4445c-bff6-11ed-afa1-0242ac120002"
PUT_FILE = "b8508d35-c2f3-442b-88a1-267ca25e85c0"
TASK = "d1e33d56-c5c7-4272-aeb6-bc2732cce1f2"
TASK_FILE = "40f8df24-60a1-4558-9576-9a2264570e86"


def _post(client: Client, url: str, body: object) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


def _application(file_id: str) -> Application:
    application = ExternalId.objects.get(kind=Kind.FILE, external_id=file_id).application
    assert application is not None
    return application


# --- submitting -------------------------------------------------------------------------


def test_submit_an_application_file(govstack: Country, gateway: Callable[..., Client]) -> None:
    body = {
        "applicationName": "Test file", "applicantId": "42962de0-bdb2-11ed-9397-0242ac120004",
        "created": "2000-10-23T00:00:00.000Z",
        "formData": {"data": {"child": {"order": 1}}, "eFormId": MCTS_FORM},
        "documentUrls": ["/documents/x"],
    }
    response = _post(gateway(), f"/services/{MCTS}/applications", body)
    assert response.status_code == 200
    out = response.json()
    assert_matches(out, "/services/{serviceId}/applications", "post")
    assert out["serviceId"] == MCTS
    assert out["status"] == {"code": "PENDING", "title": "Pending"}
    assert out["ended"] is False
    assert out["applicationData"]["applicantId"] == body["applicantId"]
    assert out["applicationData"]["formData"] == body["formData"]
    application = _application(out["fileId"])
    assert application.channel == "govstack"
    assert application.applicant_national_id == "42962de0bdb211ed93970242ac120004"
    assert application.form_data == {"child": {"order": 1}}
    assert application.submitted_by is not None
    assert application.submitted_by.username == FIXTURE_USER
    # the new file reads back by its id
    again = gateway().get(f"/applications/{out['fileId']}").json()
    assert again == out


def test_submit_as_a_form_post(govstack: Country, gateway: Callable[..., Client]) -> None:
    response = gateway().post(f"/services/{MCTS}/applications",
                              {"applicantId": "fdae352d-9397-bdb2-11ed-11ed9397bdb2"})
    assert response.status_code == 200
    assert response.json()["applicationData"]["applicantId"] == (
        "fdae352d-9397-bdb2-11ed-11ed9397bdb2"
    )


@pytest.mark.parametrize("body", [
    [], {"applicationName": "no applicant"}, {"applicantId": ""},
    {"applicantId": "a!"}, {"applicantId": "42962de0", "formData": "text"},
    {"applicantId": "42962de0", "documentUrls": "x"},
])
def test_submit_bad_input(govstack: Country, gateway: Callable[..., Client],
                          body: object) -> None:
    response = _post(gateway(), f"/services/{MCTS}/applications", body)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_submit_not_json(govstack: Country, gateway: Callable[..., Client]) -> None:
    response = gateway().post(f"/services/{MCTS}/applications", "{not json",
                              content_type="application/json")
    assert response.status_code == 400


def test_submit_to_an_unknown_service(govstack: Country, gateway: Callable[..., Client]) -> None:
    response = _post(gateway(), "/services/n0t-ex1st1ng/applications",
                     {"applicantId": "42962de0"})
    assert response.status_code == 404


# --- reading files ----------------------------------------------------------------------


def test_list_and_filter_files(govstack: Country, gateway: Callable[..., Client]) -> None:
    client = gateway()
    everything = client.get("/applications").json()
    assert_matches(everything, "/applications")
    assert sorted(row["fileId"] for row in everything) == sorted(f[0] for f in FIXTURE_FILES)
    mine = client.get("/applications", {"applicantId": "11962de0-11b2-11cc-9390-0242ac121114"})
    assert [row["fileId"] for row in mine.json()] == ["77c4775c-b7f3-17ed-afa1-0772ac120077"]
    by_service = client.get("/applications", {"serviceId": "8b410187-e137-4487-b627-09b2b909e630"})
    assert [row["fileId"] for row in by_service.json()] == [PUT_FILE]
    assert client.get("/applications", {"serviceId": "n0t-ex1st1ng"}).json() == []
    assert client.get("/applications", {"applicantId": "n0t-ex1st1ng"}).json() == []
    page = client.get("/applications", {"firstResult": 2, "maxResult": 3, "sortBy": "id",
                                        "sortOrder": "desc"}).json()
    numbers = sorted((_application(f[0]).number for f in FIXTURE_FILES), reverse=True)
    assert [row["description"] for row in page] == numbers[2:5]


@pytest.mark.parametrize("query", [{"firstResult": "x"}, {"maxResult": "-1"},
                                   {"sortOrder": "up"}])
def test_list_bad_paging(govstack: Country, gateway: Callable[..., Client],
                         query: dict[str, str]) -> None:
    assert gateway().get("/applications", query).status_code == 400


def test_one_file(govstack: Country, gateway: Callable[..., Client]) -> None:
    response = gateway().get(f"/applications/{FILE}")
    assert response.status_code == 200
    assert_matches(response.json(), "/applications/{fileId}")
    assert response.json()["fileId"] == FILE
    assert response.json()["registered"] == (
        _application(FILE).submitted_at.isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
    assert gateway().get("/applications/n0t-ex1st1ng").status_code == 404
    # a file without a GovStack id is known by its onestop number
    number = _application(FILE).number
    assert gateway().get(f"/applications/{number}").json()["fileId"] == FILE


def test_operator_updates_a_file(govstack: Country, gateway: Callable[..., Client]) -> None:
    body = {"applicantId": "622fcd1a-8070-4efc-9d26-29461f83a15b",
            "formData": {"data": {"checked": {"ok": True}}, "eFormId": "op-form"}}
    response = gateway().put(f"/applications/{PUT_FILE}", json.dumps(body),
                             content_type="application/json")
    assert response.status_code == 200
    out = response.json()
    assert_matches(out, "/applications/{fileId}", "put")
    assert out["fileId"] == PUT_FILE
    assert out["applicationData"]["formData"] == body["formData"]
    record = ExternalId.objects.get(kind=Kind.FILE, external_id=PUT_FILE)
    assert record.data["operatorData"] == {"checked": {"ok": True}}
    # the applicant's own form stays as submitted
    assert _application(PUT_FILE).form_data == {}
    missing = gateway().put("/applications/n0t-ex1st1ng", json.dumps(body),
                            content_type="application/json")
    assert missing.status_code == 404
    bad = gateway().put(f"/applications/{PUT_FILE}", json.dumps({"formData": {}}),
                        content_type="application/json")
    assert bad.status_code == 400


# --- tasks ------------------------------------------------------------------------------


def test_tasks(govstack: Country, gateway: Callable[..., Client]) -> None:
    client = gateway()
    tasks = client.get("/tasks").json()
    assert_matches(tasks, "/tasks")
    by_file = {row["fileId"]: row for row in tasks}
    assert by_file[TASK_FILE]["taskId"] == TASK
    assert by_file[FILE]["taskId"] == FILE
    assert by_file[FILE]["name"] == "Submitted"
    only = client.get("/tasks", {"fileId": FILE}).json()
    assert [row["taskId"] for row in only] == [FILE]
    assert client.get("/tasks", {"mainTaskId": FILE}).json() == only
    assert client.get("/tasks", {"fileId": "n0t-ex1st1ng"}).json() == []
    assert client.get("/tasks", {"assigneeId": "n0t-ex1st1ng"}).json() == []
    one = client.get(f"/tasks/{TASK}")
    assert one.status_code == 200
    assert_matches(one.json(), "/tasks/{taskId}")
    assert one.json()["taskId"] == TASK
    assert one.json()["fileId"] == TASK_FILE
    assert client.get("/tasks/n0t-ex1st1ng").status_code == 404
    assert client.post("/tasks/n0t-ex1st1ng").status_code == 404
    assert client.post(f"/tasks/{TASK}").status_code == 405


def test_complete_a_task(govstack: Country, gateway: Callable[..., Client]) -> None:
    client = gateway()
    body = {"data": {"additionalProp1": {}}}
    response = _post(client, f"/tasks/{TASK}/complete", body)
    assert response.status_code == 200
    assert_matches(response.json(), "/tasks/{taskId}/complete", "post")
    assert response.json()["fileId"] == TASK_FILE
    application = _application(TASK_FILE)
    assert application.state == "in_review"
    event = application.events.order_by("-at", "-pk").first()
    assert event is not None
    assert (event.action, event.actor_role) == ("accept", "officer")
    # the task is done: completing it again changes nothing
    events = ApplicationEvent.objects.count()
    again = _post(client, f"/tasks/{TASK}/complete", body)
    assert again.status_code == 200
    assert ApplicationEvent.objects.count() == events
    assert client.get(f"/tasks/{TASK}").json()["status"]["code"] == "PENDING"
    # the file's current step needs a result document: not completed without one
    assert _post(client, f"/tasks/{TASK_FILE}/complete", body).status_code == 409
    assert _post(client, "/tasks/n0t-ex1st1ng/complete", body).status_code == 404
    assert _post(client, f"/tasks/{TASK}/complete", ["x"]).status_code == 400


# --- documents ----------------------------------------------------------------------------


def test_upload_documents(govstack: Country, gateway: Callable[..., Client]) -> None:
    content = b"%PDF-1.4 test"
    response = gateway().post("/documents?additionalMetadata=birth",
                              {"file": [base64.b64encode(content).decode()]})
    assert response.status_code == 200
    assert_matches(response.json(), "/documents", "post")
    upload = Upload.objects.get()
    assert response.json()["url"] == f"/documents/{upload.pk}"
    assert (upload.size, upload.metadata) == (len(content), "birth")
    with upload.file.open("rb") as stored:
        assert stored.read() == content
    empty = gateway().post("/documents")
    assert empty.status_code == 400
    assert_matches(empty.json(), "/documents", "post", 400)
    assert gateway().post("/documents", {"file": ["not base64!"]}).status_code == 400


# --- who may see and do what -------------------------------------------------------------


def test_main_site_needs_a_token(govstack: Country, client: Client,
                                 api_client: Callable[..., Client],
                                 make_user: Callable[..., User]) -> None:
    # the mediator's header is not trusted outside gateway mode
    header = {"HTTP_INFORMATION_MEDIATOR_CLIENT": Member.objects.get().client}
    for url in ("/govstack/applications", f"/govstack/applications/{FILE}", "/govstack/tasks",
                f"/govstack/tasks/{TASK}"):
        response = client.get(url, **header)
        assert response.status_code == 401, url
    assert client.post("/govstack/documents").status_code == 401
    assert api_client().get("/govstack/applications",
                            HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    # the register is public
    assert client.get("/govstack/services").status_code == 200


def test_role_rules_apply(govstack: Country, api_client: Callable[..., Client],
                          make_user: Callable[..., User]) -> None:
    citizen = make_user("citizen", national_id="42962de0bdb211ed93970242ac120004")
    other_agency = next(a for a in govstack.agencies.all() if a.code != "GOVSTACK-CONFORMANCE")
    outsider = make_user("officer", agency_code=other_agency.code)
    officer = User.objects.get(username=FIXTURE_USER)
    # fixture files were filed by the test officer, not by the citizen's account
    assert api_client(citizen).get("/govstack/applications").json() == []
    assert api_client(citizen).get(f"/govstack/applications/{FILE}").status_code == 404
    assert api_client(outsider).get("/govstack/applications").json() == []
    assert api_client(outsider).get(f"/govstack/tasks/{TASK}").status_code == 404
    assert api_client(officer).get(f"/govstack/applications/{FILE}").status_code == 200
    # a citizen applies only for themselves, and then sees the file
    own = _post(api_client(citizen), f"/govstack/services/{MCTS}/applications",
                {"applicantId": "42962de0-bdb2-11ed-9397-0242ac120004"})
    assert own.status_code == 200
    listed = api_client(citizen).get("/govstack/applications").json()
    assert [row["fileId"] for row in listed] == [own.json()["fileId"]]
    other = _post(api_client(citizen), f"/govstack/services/{MCTS}/applications",
                  {"applicantId": "11962de0-11b2-11cc-9390-0242ac121114"})
    assert other.status_code == 403
    # a citizen does not update a file as an operator
    put = api_client(citizen).put(f"/govstack/applications/{own.json()['fileId']}",
                                  json.dumps({"applicantId": "x"}),
                                  content_type="application/json")
    assert put.status_code == 403


def test_gateway_members(govstack: Country, gateway: Callable[..., Client]) -> None:
    assert gateway("eGovStack/GOV/1/unknown").get("/applications").status_code == 403
    assert gateway("invalid_header").get("/applications").status_code == 400
    # without a header: the default member
    assert gateway(None).get(f"/applications/{FILE}").status_code == 200
    Member.objects.update(is_default=False)
    assert gateway(None).get(f"/applications/{FILE}").status_code == 403
    User.objects.filter(username=FIXTURE_USER).update(is_active=False)
    assert gateway().get(f"/applications/{FILE}").status_code == 403
