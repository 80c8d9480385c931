"""The centre's pages: the kiosk, the display board and its JSON, and the operator desk;
and the counter's submission linked to the ticket being served.

Time is frozen at 10:00 on the conftest's Monday in Almaty and moved on by hand. The
mini pack's AST-01: counters 1-2 serve A, 3 serves A and R, 4-12 every group.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.centres import views_desk
from onestop.centres.models import (
    Appointment,
    Centre,
    CounterSession,
    ServiceGroup,
    SliceKind,
    Ticket,
    TicketState,
)

BIRTH = "01010001"
CITIZEN_ID = "900101300011"


class FrozenTime:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **amount: float) -> dt.datetime:
        self.at += dt.timedelta(**amount)
        return self.at


@pytest.fixture(autouse=True)
def now(settings: Any, mini_country: Country, monkeypatch: pytest.MonkeyPatch,
        at: Callable[..., dt.datetime]) -> Iterator[FrozenTime]:
    settings.ONESTOP_COUNTRY = "zz"
    frozen = FrozenTime(at(10, 0))
    monkeypatch.setattr(timezone, "now", frozen)
    cache.clear()  # the kiosk's per-address ticket count
    yield frozen
    cache.clear()


def browser(user: User | None = None, **options: Any) -> Client:
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en", **options)
    if user is not None:
        client.force_login(user)
    return client


def text(response: Any) -> str:
    """The page's text without tags, its whitespace made single spaces."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> User:
    person = make_user("citizen", national_id=CITIZEN_ID)
    person.first_name, person.last_name = "Aigerim", "Nurlanova"
    person.save()
    return person


# --- the kiosk ------------------------------------------------------------------------------


def test_the_kiosk_is_public_and_offers_the_groups_counters_serve(centre: Centre) -> None:
    response = browser().get("/centres/AST-01/kiosk/")

    assert response.status_code == 200
    shown = text(response)
    assert "Take a ticket Astana Centre No. 1" in shown
    html = response.content.decode()
    assert re.findall(r'name="group" value="([A-Z]+)"', html) == ["A", "B", "R"]
    assert "Priority service: choose only if it applies to you" in shown
    assert "People with disabilities" in shown
    assert "Elderly people" in shown
    assert "csrfmiddlewaretoken" in html


def test_the_kiosk_speaks_the_page_language(centre: Centre) -> None:
    page = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ru").get("/centres/AST-01/kiosk/")
    shown = text(page)
    assert "Документы" in shown
    assert "Пожилые" in shown
    assert "ЦОН Астаны №1" in shown


def test_a_ticket_taken_at_the_kiosk_prints_its_number_and_wait(
    centre: Centre, operator_at: Callable[..., User], issue: Callable[..., Ticket],
) -> None:
    operator_at(1)
    issue("A")  # someone is already waiting
    kiosk = browser()

    response = kiosk.post("/centres/AST-01/kiosk/", {"group": "A", "priority": ""})

    assert response.status_code == 302
    ticket = Ticket.objects.get(number="A-002")
    assert ticket.source == "kiosk"
    assert ticket.state == TicketState.WAITING
    assert ticket.priority is None
    assert ticket.citizen is None
    assert response["Location"].startswith("/centres/AST-01/kiosk/ticket/")
    page = kiosk.get(response["Location"])
    assert page.status_code == 200
    shown = text(page)
    assert "Your ticket A-002 Documents" in shown
    assert "Taken at 2026-03-02 10:00" in shown
    assert "People ahead of you 1" in shown
    # one ahead, one open counter for A, 20 minutes at the counter (the standard of 01…)
    assert "Expected wait about 20 minutes" in shown
    assert "Print the ticket" in shown
    assert "@media print" in (centre_css := _static("centres/centres.css"))
    assert ".top, .foot" in centre_css


def _static(path: str) -> str:
    from django.contrib.staticfiles import finders

    found = finders.find(path)
    assert isinstance(found, str)
    with open(found, encoding="utf-8") as file:
        return file.read()


def test_the_expected_wait_is_unknown_while_no_counter_is_open(
    centre: Centre, operator_at: Callable[..., User],
) -> None:
    kiosk = browser()
    response = kiosk.post("/centres/AST-01/kiosk/", {"group": "B"})
    shown = text(kiosk.get(response["Location"]))
    assert "People ahead of you 0" in shown
    assert "Expected wait not known yet: no counter of this queue is open" in shown
    operator_at(4)
    response = kiosk.post("/centres/AST-01/kiosk/", {"group": "R"})
    shown = text(kiosk.get(response["Location"]))
    assert "People ahead of you 0 Expected wait none: you are next" in shown


def test_a_priority_ticket(centre: Centre) -> None:
    response = browser().post("/centres/AST-01/kiosk/", {"group": "A", "priority": "elderly"})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.priority is not None
    assert ticket.priority.code == "elderly"
    assert ticket.priority_rank == 2


@pytest.mark.parametrize("data", [{"group": "Z"}, {"group": "A", "priority": "king"}, {}])
def test_a_kiosk_choice_that_does_not_exist_issues_nothing(
    centre: Centre, data: dict[str, str],
) -> None:
    response = browser().post("/centres/AST-01/kiosk/", data)
    assert response.status_code == 422
    assert "No ticket was issued." in text(response)
    assert not Ticket.objects.exists()


def test_the_kiosk_refuses_a_post_without_its_csrf_token(centre: Centre) -> None:
    response = browser(enforce_csrf_checks=True).post("/centres/AST-01/kiosk/", {"group": "A"})
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_the_kiosk_limits_tickets_per_address(
    centre: Centre, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views_desk, "KIOSK_TICKETS_PER_MINUTE", 2)
    kiosk = browser()
    assert [kiosk.post("/centres/AST-01/kiosk/", {"group": "A"}).status_code
            for _ in range(3)] == [302, 302, 429]
    assert Ticket.objects.count() == 2


def test_an_appointment_code_takes_its_ticket(
    centre: Centre, group: Callable[[str], ServiceGroup], citizen: User,
    at: Callable[..., dt.datetime],
) -> None:
    appointment = Appointment.objects.create(
        centre=centre, group=group("A"), citizen=citizen, slot_start=at(10, 15),
        slot_end=at(10, 30), code="K7Q2M9", booked_at=at(8, 0))
    kiosk = browser()

    unknown = kiosk.post("/centres/AST-01/kiosk/", {"code": "NOPE00"})
    assert unknown.status_code == 404
    assert "no appointment with this code at this centre" in text(unknown)
    response = kiosk.post("/centres/AST-01/kiosk/", {"code": " k7q2-m9 "})

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.source == "appointment"
    assert ticket.due_at is not None
    appointment.refresh_from_db()
    assert appointment.ticket == ticket
    shown = text(kiosk.get(response["Location"]))
    assert f"Your ticket {ticket.number}" in shown
    for personal in ("Aigerim", "Nurlanova", CITIZEN_ID, citizen.username):
        assert personal not in shown
    again = kiosk.post("/centres/AST-01/kiosk/", {"code": "K7Q2M9"})
    assert again.status_code == 409  # it has arrived: no second ticket
    assert f"you have already arrived: your ticket is {ticket.number}" in text(again)
    assert Ticket.objects.count() == 1


def test_a_ticket_link_cannot_be_forged(centre: Centre, issue: Callable[..., Ticket]) -> None:
    ticket = issue("A")
    kiosk = browser()
    assert kiosk.get(f"/centres/AST-01/kiosk/ticket/{ticket.pk}/").status_code == 404
    link = kiosk.post("/centres/AST-01/kiosk/", {"group": "A"})["Location"]
    assert kiosk.get(link.replace("AST-01", "AST-02")).status_code == 404


def test_an_unknown_centre_is_not_found(centre: Centre) -> None:
    for path in ("/centres/NOPE/kiosk/", "/centres/NOPE/board/", "/centres/NOPE/board.json"):
        assert browser().get(path).status_code == 404
    assert browser().get("/centres/AST-01/kiosk/?country=uz").status_code == 404
    assert browser().get("/centres/AST-01/kiosk/?country=zz").status_code == 200


# --- the display board ----------------------------------------------------------------------


def test_the_board_shows_the_calls_without_personal_data(
    centre: Centre, operator_at: Callable[..., User], issue: Callable[..., Ticket],
    citizen: User, now: FrozenTime,
) -> None:
    from onestop.centres import services

    first, second = operator_at(3), operator_at(4)
    issue("A", citizen=citizen)
    issue("A")
    services.call_next(operator=first)
    services.identify(operator=first, national_id=CITIZEN_ID)
    now.advance(seconds=30)
    services.call_next(operator=second)

    page = browser().get("/centres/AST-01/board/")
    feed = browser().get("/centres/AST-01/board.json")

    assert page.status_code == 200
    assert feed.status_code == 200
    html = page.content.decode()
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert "no-store" in feed["Cache-Control"]
    shown = text(page)
    assert "Now calling A-002 → counter 4" in shown
    assert "Called tickets Ticket Counter A-002 4 A-001 3" in shown
    assert '<tr class="current"><td>A-002</td><td>4</td></tr>' in html
    data = feed.json()
    assert [(c["number"], c["counter"], c["spoken"]) for c in data["calls"]] == [
        ("A-002", 4, "A 2"), ("A-001", 3, "A 1")]
    config = json.loads(re.search(r'id="board-config" type="application/json">(.*?)</script>',
                                  html).group(1))  # type: ignore[union-attr]
    assert config["poll"] == "/centres/AST-01/board.json"
    assert config["interval"] == 1000
    assert [a["language"] for a in config["announcements"]] == ["kk", "ru", "en"]
    english = config["announcements"][2]["text"]
    assert english == "Ticket %(number)s, counter %(counter)s"
    for personal in ("Aigerim", "Nurlanova", CITIZEN_ID, citizen.username, first.username):
        assert personal not in html
        assert personal not in feed.content.decode()


def test_the_board_drops_finished_tickets(
    centre: Centre, operator_at: Callable[..., User], issue: Callable[..., Ticket],
) -> None:
    from onestop.centres import services

    operator = operator_at(3)
    issue("A")
    services.call_next(operator=operator)
    services.start_serving(operator=operator)
    assert [c["number"] for c in browser().get("/centres/AST-01/board.json").json()["calls"]] \
        == ["A-001"]
    services.finish(operator=operator)
    assert browser().get("/centres/AST-01/board.json").json()["calls"] == []
    assert "Please wait for your number." in text(browser().get("/centres/AST-01/board/"))


# --- the operator desk ----------------------------------------------------------------------


def test_anonymous_visitors_sign_in_for_the_desk(centre: Centre) -> None:
    for response in (browser().get("/desk/"), browser().post("/desk/call-next/")):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/desk/")


@pytest.mark.parametrize("role", ["citizen", "officer", "supervisor", "controller", "admin"])
def test_only_operators_work_at_the_desk(
    centre: Centre, make_user: Callable[..., User], make_staff: Callable[..., User],
    role: str,
) -> None:
    if role == "officer":
        user = make_user(role, agency_code="MJ-ZAGS", country_code="zz")
    elif role == "supervisor":  # the centre's own manager: a supervisor, not an operator
        user = make_staff(role)
    else:
        user = make_user(role)
    page = browser(user)
    assert page.get("/desk/").status_code == 403
    for action in ("open", "call-next", "finish"):
        response = page.post(f"/desk/{action}/", {"counter": "3"})
        assert response.status_code == 403
        assert "open to the operators of a one-stop-shop centre only" in text(response)
    assert not CounterSession.objects.exists()


def test_an_operator_works_a_ticket_through_the_desk(
    centre: Centre, make_operator: Callable[..., User], issue: Callable[..., Ticket],
    citizen: User, now: FrozenTime,
) -> None:
    operator = make_operator()
    desk = browser(operator)
    issue("A")
    issue("R")
    issue("B")

    closed = desk.get("/desk/")
    assert "Open a counter" in text(closed)
    assert "Waiting at the centre Queue Waiting A Documents 1 B Other 1 R Collecting results 1" \
        in text(closed)
    opened = desk.post("/desk/open/", {"counter": "3"}, follow=True)
    shown = text(opened)
    assert "Counter 3 is open." in shown
    assert "Waiting for your counter Queue Waiting A Documents 1 R Collecting results 1" in shown
    assert "Next: A-001 R-001" in shown

    shown = text(desk.post("/desk/call-next/", follow=True))
    assert "Called A-001." in shown
    assert "Current ticket A-001 Queue A Documents State called Since 10:00:00 (0:00 elapsed)" \
        in shown
    now.advance(seconds=75)
    assert "(1:15 elapsed)" in text(desk.get("/desk/"))
    assert "Called A-001 again." in text(desk.post("/desk/recall/", follow=True))
    shown = text(desk.post("/desk/start/", follow=True))
    assert "Serving A-001." in shown
    assert "State being served" in shown
    assert "Submit an application" in shown
    assert 'href="/counter/"' in desk.get("/desk/").content.decode()
    shown = text(desk.post("/desk/identify/", {"national_id": CITIZEN_ID}, follow=True))
    assert "The citizen of A-001 is identified." in shown
    assert "Citizen identified" in shown
    shown = text(desk.post("/desk/hold/", follow=True))  # the citizen goes to pay a fee
    assert "A-001 is on hold." in shown
    assert "Your tickets on hold Call A-001 back" in shown
    now.advance(minutes=2)
    shown = text(desk.post("/desk/call-number/", {"number": "A-001"}, follow=True))
    assert "Called A-001." in shown
    desk.post("/desk/start/")
    now.advance(minutes=5)
    assert "A-001 is served." in text(desk.post("/desk/finish/", follow=True))
    ticket = Ticket.objects.get(number="A-001")
    assert ticket.state == TicketState.SERVED
    assert ticket.citizen == citizen
    assert ticket.wait_seconds == 0
    assert ticket.service_seconds == 300  # the time on hold is not service
    assert "Counter 3 is closed." in text(desk.post("/desk/close/", follow=True))


def test_the_desk_shows_the_services_refusals(
    centre: Centre, operator_at: Callable[..., User], issue: Callable[..., Ticket],
) -> None:
    desk = browser(operator_at(3))

    finished = desk.post("/desk/finish/")
    assert finished.status_code == 409
    assert "Not done: there is no ticket at your counter" in text(finished)
    assert "No one is waiting for your counter." in text(desk.post("/desk/call-next/",
                                                                   follow=True))
    issue("A")
    issue("A")
    jumped = desk.post("/desk/call-number/", {"number": "a-2", "reason": ""})
    assert jumped.status_code == 400
    assert "give a reason to call A-002 out of order" in text(jumped)
    called = desk.post("/desk/call-number/", {"number": "A-002", "reason": "a wheelchair user"})
    assert called.status_code == 302
    slice_ = Ticket.objects.get(number="A-002").slices.get(kind=SliceKind.CALLED)
    assert slice_.out_of_order
    assert slice_.reason == "a wheelchair user"
    no_show = desk.post("/desk/no-show/")
    assert no_show.status_code == 409
    assert "before marking a no-show" in text(no_show)
    assert desk.post("/desk/close/").status_code == 409
    assert desk.post("/desk/dance/").status_code == 404
    assert desk.post("/desk/open/", {"counter": "99"}).status_code == 422


def test_redirecting_a_ticket(
    centre: Centre, operator_at: Callable[..., User], issue: Callable[..., Ticket],
) -> None:
    desk = browser(operator_at(3))
    issue("A")
    issue("A")
    desk.post("/desk/call-next/")

    neither = desk.post("/desk/redirect/", {"reason": "wrong queue"})
    assert neither.status_code == 422
    assert "Choose either a counter or a queue." in text(neither)
    sent = desk.post("/desk/redirect/", {"to_group": "B", "reason": "wrong queue"},
                     follow=True)
    assert "A-001 is sent to the queue B as B-001." in text(sent)  # counters 4-12 serve B
    ticket = Ticket.objects.get(number="B-001")
    assert ticket.state == TicketState.WAITING
    assert ticket.group.code == "B"
    assert desk.post("/desk/call-next/").status_code == 302
    to_counter = desk.post("/desk/redirect/", {"to_counter": "4", "reason": "a pickup"},
                           follow=True)
    assert "A-002 is sent to counter 4." in text(to_counter)
    assert Ticket.objects.get(number="A-002").target_counter.number == 4  # type: ignore[union-attr]



def test_an_operator_of_another_centre_cannot_work_this_centres_queue(
    centre: Centre, other_centre: Centre, operator_at: Callable[..., User],
    make_operator: Callable[..., User], issue: Callable[..., Ticket],
) -> None:
    issue("A")
    stranger = operator_at(1, centre=other_centre)
    desk = browser(stranger)
    page = text(desk.get("/desk/"))
    assert "Astana Centre No. 2" in page
    assert "A-001" not in page
    response = desk.post("/desk/call-number/", {"number": "A-001", "reason": "x"})
    assert response.status_code == 404
    assert Ticket.objects.get().state == TicketState.WAITING

    # an operator moved to another centre while their counter here was open
    moved = operator_at(3)
    moved.centre = other_centre
    moved.save()
    refused = browser(moved).post("/desk/call-next/")
    assert refused.status_code == 403
    assert "this counter is not at your centre" in text(refused)
    assert Ticket.objects.get().state == TicketState.WAITING


# --- the counter's submission joins the ticket ----------------------------------------------


def _counter_form(page: Client) -> dict[str, object]:
    html = page.get(f"/counter/{BIRTH}/").content.decode()
    token = re.search(r'name="submission" value="([0-9a-f]{32})"', html)
    assert token is not None
    return {
        "submission": token.group(1), "national_id": CITIZEN_ID,
        "applicant_name": "Aigerim Nurlanova", "phone": "", "email": "",
        "eform-child_name": "Aruzhan", "eform-iin": "250101300011",
        "eform-document-id_card": SimpleUploadedFile("id.pdf", b"%PDF-1.4 a scan",
                                                     content_type="application/pdf"),
    }


def test_an_application_submitted_while_serving_joins_the_ticket(
    centre: Centre, operator_at: Callable[..., User], issue: Callable[..., Ticket],
) -> None:
    operator = operator_at(3)
    page = browser(operator)
    issue("A")
    page.post("/desk/call-next/")
    page.post("/desk/start/")

    response = page.post(f"/counter/{BIRTH}/", _counter_form(page))

    assert response.status_code == 302
    application = Application.objects.get()
    ticket = Ticket.objects.get()
    assert list(ticket.applications.all()) == [application]
    assert ticket.national_id == CITIZEN_ID
    assert application.number in text(page.get("/desk/"))


def test_an_application_submitted_without_a_ticket_is_submitted_alone(
    centre: Centre, make_operator: Callable[..., User],
) -> None:
    page = browser(make_operator())
    response = page.post(f"/counter/{BIRTH}/", _counter_form(page))
    assert response.status_code == 302
    assert Application.objects.count() == 1
    assert not Ticket.objects.exists()
