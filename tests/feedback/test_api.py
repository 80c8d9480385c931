"""The ratings and complaints API: who may see and do what, and the answers' shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from onestop.accounts.models import User
from onestop.applications.models import Application, Payment
from onestop.centres.models import Ticket
from onestop.feedback import services
from onestop.feedback.models import Rating

from .conftest import BEFORE_NAURYZ

Api = Callable[[User | None], Client]
GOOD = {"legality": 5, "timeliness": 4}


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_rate_and_change_through_the_api(
    api_client: Api, citizen: User, other_citizen: User, officer: User,
    make_application: Callable[..., Application],
) -> None:
    application = make_application(citizen)
    me = api_client(citizen)
    answer = post(me, "/api/v1/ratings", {"application": application.number, "scores": GOOD})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["mean"], body["lowest"], body["alert"]) == ("4.50", 4, False)
    changed = post(me, "/api/v1/ratings", {"application": application.number,
                                           "scores": {"legality": 2, "timeliness": 2}})
    assert changed.status_code == 200
    assert changed.json()["alert"] is True
    assert [r["id"] for r in me.get("/api/v1/ratings/mine").json()] == [body["id"]]
    # another citizen's application is a 404; staff do not rate; no token is a 401
    assert post(api_client(other_citizen), "/api/v1/ratings",
                {"application": application.number, "scores": GOOD}).status_code == 404
    assert post(api_client(officer), "/api/v1/ratings",
                {"application": application.number, "scores": GOOD}).status_code == 403
    assert post(api_client(None), "/api/v1/ratings",
                {"application": application.number, "scores": GOOD}).status_code == 401
    bad = post(me, "/api/v1/ratings", {"application": application.number,
                                       "scores": {"legality": 9, "timeliness": 1}})
    assert bad.status_code == 422
    assert "1 to 5" in bad.json()["detail"]
    assert post(me, "/api/v1/ratings", {"scores": GOOD}).status_code == 422


def test_rate_a_ticket_by_its_receipt_token_without_an_account(
    api_client: Api, make_ticket: Callable[..., Ticket]
) -> None:
    ticket = make_ticket()
    token = services.rating_token(ticket)
    anonymous = api_client(None)
    answer = post(anonymous, "/api/v1/ratings", {"ticket_token": token, "scores": GOOD,
                                                 "channel": "receipt"})
    assert answer.status_code == 201, answer.content
    assert Rating.objects.get().ticket == ticket
    assert post(anonymous, "/api/v1/ratings", {"ticket_token": "forged:token",
                                               "scores": GOOD}).status_code == 404
    wrong = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer nonsense")
    assert post(wrong, "/api/v1/ratings", {"ticket_token": token,
                                           "scores": GOOD}).status_code == 401


def test_complaint_lifecycle_and_scopes_through_the_api(
    api_client: Api, citizen: User, other_citizen: User, officer: User, other_officer: User,
    supervisor: User, manager: User, controller: User,
    make_application: Callable[..., Application],
) -> None:
    application = make_application(citizen, "refused")
    me = api_client(citizen)
    filed = post(me, "/api/v1/complaints", {
        "subject": "application", "application": application.number,
        "ground": "unjustified_refusal", "text": "The documents were fine"})
    assert filed.status_code == 201, filed.content
    number = filed.json()["number"]
    assert filed.json()["actions"] == ["withdraw"]
    assert filed.json()["handler"] is None
    # who sees it
    assert [c["number"] for c in me.get("/api/v1/complaints").json()["items"]] == [number]
    for outsider in (other_citizen, other_officer, manager):
        client = api_client(outsider)
        assert client.get(f"/api/v1/complaints/{number}").status_code == 404
        assert client.get("/api/v1/complaints").json()["count"] == 0
    for insider in (officer, supervisor, controller):
        assert api_client(insider).get(f"/api/v1/complaints/{number}").status_code == 200
    # who acts: a citizen does not decide; the control body does not at the provider level
    decide = {"decision": "upheld", "reason": "The refusal had no basis"}
    assert post(me, f"/api/v1/complaints/{number}/decide", decide).status_code == 403
    assert post(api_client(controller), f"/api/v1/complaints/{number}/decide",
                decide).status_code == 403
    assert post(api_client(other_officer), f"/api/v1/complaints/{number}/decide",
                decide).status_code == 404
    assert post(api_client(officer), f"/api/v1/complaints/{number}/withdraw",
                {}).status_code == 403
    staff = api_client(officer)
    assert post(staff, f"/api/v1/complaints/{number}/extend",
                {"days": 61, "reason": "expert"}).status_code == 422
    assigned = post(staff, f"/api/v1/complaints/{number}/assign", {"handler": officer.username})
    assert assigned.json()["state"] == "in_review"
    assert post(staff, f"/api/v1/complaints/{number}/assign",
                {"handler": other_officer.username}).status_code == 422
    decided = post(staff, f"/api/v1/complaints/{number}/decide", decide)
    assert decided.status_code == 200, decided.content
    assert decided.json()["decision"] == "upheld"
    assert Payment.objects.get(application=application).status == "refund_due"
    assert post(staff, f"/api/v1/complaints/{number}/decide", decide).status_code == 409
    # the citizen disagrees: a control-level complaint for the control body
    escalated = post(me, f"/api/v1/complaints/{number}/disagree", {"reason": "not enough"})
    assert escalated.status_code == 200
    upper = escalated.json()
    assert (upper["level"], upper["escalated_from"]) == ("control", number)
    assert api_client(controller).get("/api/v1/complaints/" + upper["number"]).json()[
        "actions"] == ["assign", "extend", "decide"]
    assert post(me, f"/api/v1/complaints/{number}/nonsense", {}).status_code == 422


def test_complaint_input_errors(
    api_client: Api, citizen: User, other_citizen: User, officer: User,
    make_application: Callable[..., Application], make_ticket: Callable[..., Ticket],
) -> None:
    application = make_application(citizen, "refused")
    me = api_client(citizen)
    assert post(api_client(other_citizen), "/api/v1/complaints", {
        "subject": "application", "application": application.number,
        "ground": "unjustified_refusal", "text": "x"}).status_code == 404
    assert post(api_client(officer), "/api/v1/complaints", {
        "subject": "application", "application": application.number,
        "ground": "unjustified_refusal", "text": "x"}).status_code == 403
    wrong_ground = post(me, "/api/v1/complaints", {
        "subject": "application", "application": application.number,
        "ground": "unethical_behaviour", "text": "x"})
    assert wrong_ground.status_code == 422
    assert "not about application" in wrong_ground.json()["detail"]
    assert post(me, "/api/v1/complaints", {"subject": "centre", "centre": "NOPE",
                                           "ground": "unethical_behaviour",
                                           "text": "x"}).status_code == 422
    operator = post(me, "/api/v1/complaints", {
        "subject": "operator", "ticket": make_ticket(citizen).pk,
        "ground": "unethical_behaviour", "text": "rude"})
    assert operator.status_code == 201, operator.content
    assert operator.json()["centre"] == "AST-01"
    assert post(me, "/api/v1/complaints", {"subject": "centre", "centre": "AST-01",
                                           "ground": "unethical_behaviour",
                                           "text": "x", "country": "zz"}).status_code == 201


def test_deadline_is_in_the_answer(
    api_client: Api, citizen: User, make_application: Callable[..., Application]
) -> None:
    application = make_application(citizen, "refused")
    complaint = services.file_complaint(citizen=citizen, subject="application",
                                        ground="unjustified_refusal", text="x",
                                        application=application, now=BEFORE_NAURYZ)
    body = api_client(citizen).get(f"/api/v1/complaints/{complaint.number}").json()
    assert body["deadline_at"].startswith("2026-03-31T13:00:00")  # 18:00 in Almaty
    assert [e["action"] for e in body["events"]] == ["registered"]
