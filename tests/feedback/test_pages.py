"""The pages: rating from the cabinet and from a receipt's QR token, filing and following
complaints, the staff inbox with its actions, and the alerts; each for whom it is."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from onestop.accounts.models import User
from onestop.applications.models import Application, Payment
from onestop.centres.models import Ticket
from onestop.feedback import services
from onestop.feedback.models import Complaint, Rating

from .conftest import ALMATY


def signed_in(user: User) -> Client:
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_cabinet_links_to_rating_and_complaining(
    citizen: User, make_application: Callable[..., Application]
) -> None:
    application = make_application(citizen)
    page = signed_in(citizen).get(f"/cabinet/{application.number}/")
    assert f"/feedback/rate/{application.number}/" in page.content.decode()
    assert f"/feedback/complaints/new/?application={application.number}" in page.content.decode()


def test_rate_page_for_my_completed_application(
    citizen: User, other_citizen: User, officer: User,
    make_application: Callable[..., Application],
) -> None:
    application = make_application(citizen)
    me = signed_in(citizen)
    url = f"/feedback/rate/{application.number}/"
    page = me.get(url)
    assert page.status_code == 200
    assert "Legality" in page.content.decode()
    invalid = me.post(url, {"score_legality": "5"})
    assert invalid.status_code == 422
    done = me.post(url, {"score_legality": "5", "score_timeliness": "2", "comment": "slow"})
    assert done.status_code == 302
    rating = Rating.objects.get()
    assert (rating.scores, rating.channel, rating.alert) == (
        {"legality": 5, "timeliness": 2}, "portal", True)
    assert signed_in(other_citizen).get(url).status_code == 404
    assert signed_in(officer).get(url).status_code == 403
    assert Client(HTTP_HOST="localhost").get(url).status_code == 302  # sign in first
    assert me.get(f"/feedback/rate/{make_application(citizen, 'open').number}/"
                  ).status_code == 409


def test_rate_a_visit_from_the_receipt_qr_without_signing_in(
    make_ticket: Callable[..., Ticket]
) -> None:
    ticket = make_ticket()
    url = f"/feedback/rate/ticket/{services.rating_token(ticket)}/"
    anonymous = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    assert anonymous.get(url).status_code == 200
    assert anonymous.post(url, {"score_legality": "4", "score_timeliness": "5"}
                          ).status_code == 302
    rating = Rating.objects.get()
    assert (rating.ticket, rating.citizen, rating.channel) == (ticket, None, "receipt")
    assert anonymous.get("/feedback/rate/ticket/forged:abc/").status_code == 404


def test_file_and_follow_a_complaint_then_disagree(
    citizen: User, other_citizen: User, officer: User,
    make_application: Callable[..., Application],
) -> None:
    application = make_application(citizen, "refused")
    me = signed_in(citizen)
    url = f"/feedback/complaints/new/?application={application.number}"
    form = me.get(url)
    assert form.status_code == 200
    assert "Unjustified refusal" in form.content.decode()
    assert "Unethical behaviour" not in form.content.decode()  # not a ground for applications
    assert me.post(url, {"ground": "unjustified_refusal", "text": ""}).status_code == 422
    filed = me.post(url, {"ground": "unjustified_refusal", "text": "It was unjustified"})
    complaint = Complaint.objects.get()
    assert filed.status_code == 302
    assert filed["Location"] == f"/feedback/complaints/{complaint.number}/"
    mine = me.get("/feedback/complaints/").content.decode()
    assert complaint.number in mine
    local = complaint.deadline_at.astimezone(ALMATY)
    assert f"{local:%Y-%m-%d} 18:00" in mine  # the deadline in the country's time
    assert signed_in(other_citizen).get(f"/feedback/complaints/{complaint.number}/"
                                        ).status_code == 404
    assert signed_in(other_citizen).get(url).status_code == 404
    services.decide(complaint=complaint, user=officer, decision="rejected",
                    reason="The refusal stands")
    page = me.get(f"/feedback/complaints/{complaint.number}/")
    assert "I disagree with the decision" in page.content.decode()
    moved = me.post(f"/feedback/complaints/{complaint.number}/",
                    {"action": "disagree", "reason": "no"})
    assert moved.status_code == 302
    upper = Complaint.objects.get(level="control")
    assert moved["Location"] == f"/feedback/complaints/{upper.number}/"


def test_a_complaint_about_a_centre_from_the_form(citizen: User, manager: User) -> None:
    me = signed_in(citizen)
    assert me.post("/feedback/complaints/new/?subject=centre",
                   {"ground": "unethical_behaviour", "target": "AST-01",
                    "text": "rude"}).status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.centre is not None
    assert complaint.centre.code == "AST-01"
    inbox = signed_in(manager).get("/office/complaints/").content.decode()
    assert complaint.number in inbox


def test_staff_inbox_and_actions(
    citizen: User, officer: User, other_officer: User, controller: User, operator: User,
    make_application: Callable[..., Application],
) -> None:
    application = make_application(citizen, "refused")
    complaint = services.file_complaint(citizen=citizen, subject="application",
                                        ground="unjustified_refusal", text="unjustified",
                                        application=application)
    staff = signed_in(officer)
    assert complaint.number in staff.get("/office/complaints/").content.decode()
    assert complaint.number not in signed_in(other_officer).get(
        "/office/complaints/").content.decode()
    assert signed_in(other_officer).get(f"/office/complaints/{complaint.number}/"
                                        ).status_code == 404
    assert signed_in(operator).get("/office/complaints/").status_code == 403
    assert signed_in(citizen).get("/office/complaints/").status_code == 403
    url = f"/office/complaints/{complaint.number}/"
    page = staff.get(url).content.decode()
    assert "Record the decision" in page
    # the control body reads it but does not act at the provider level
    assert "Record the decision" not in signed_in(controller).get(url).content.decode()
    assert signed_in(controller).post(url, {"action": "decide", "decide-decision": "upheld",
                                            "decide-reason": "x"}).status_code == 403
    too_long = staff.post(url, {"action": "extend", "extend-days": "61",
                                "extend-reason": "expert"})
    assert too_long.status_code == 422
    assert "at most 60 days" in too_long.content.decode()
    assert staff.post(url, {"action": "assign", "assign-handler": officer.username}
                      ).status_code == 302
    assert staff.post(url, {"action": "decide", "decide-decision": "upheld",
                            "decide-reason": "The documents were fine"}).status_code == 302
    complaint.refresh_from_db()
    assert (complaint.state, complaint.decision, complaint.handler) == (
        "decided", "upheld", officer)
    assert Payment.objects.get(application=application).status == "refund_due"


def test_alerts_page_for_supervisors_and_control(
    citizen: User, supervisor: User, officer: User, controller: User,
    make_application: Callable[..., Application],
) -> None:
    application = make_application(citizen)
    services.rate(citizen=citizen, application=application,
                  scores={"legality": 1, "timeliness": 2}, channel="portal")
    for reader in (supervisor, controller):
        page = signed_in(reader).get("/office/feedback/alerts/")
        assert page.status_code == 200
        assert application.number in page.content.decode()
    assert signed_in(officer).get("/office/feedback/alerts/").status_code == 403
    assert signed_in(citizen).get("/office/feedback/alerts/").status_code == 403
