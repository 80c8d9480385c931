"""The queue's API: taking tickets at a kiosk and the operator's counter actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from onestop.accounts.models import User
from onestop.centres.models import Appointment, Centre, ServiceGroup, Ticket, TicketState

Api = Callable[[User | None], Client]


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json")


@pytest.fixture
def kiosk(make_staff: Callable[..., User], api_client: Api) -> Client:
    """The reception device of AST-01, signed in as its supervisor."""
    return api_client(make_staff("supervisor"))


def test_a_kiosk_takes_a_ticket_and_learns_its_place(kiosk: Client, centre: Centre) -> None:
    first = post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "A"})
    assert first.status_code == 201, first.content
    second = post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "a", "priority": "elderly"})
    third = post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "A"})
    assert [r.json()["number"] for r in (first, second, third)] == ["A-001", "A-002", "A-003"]
    # the elderly citizen is called first; the third has both ahead of it
    assert [r.json()["position"] for r in (first, second, third)] == [0, 0, 2]
    assert set(first.json()) == {"number", "group", "position", "issued_at", "due_at"}
    ticket = Ticket.objects.get(number="A-002")
    assert (ticket.source, ticket.priority_rank) == ("kiosk", 2)


def test_a_kiosk_checks_in_an_appointment(
    kiosk: Client, centre: Centre, group: Callable[[str], ServiceGroup],
    make_user: Callable[..., User],
) -> None:
    now = timezone.now()
    Appointment.objects.create(
        centre=centre, group=group("R"), citizen=make_user("citizen"), slot_start=now,
        slot_end=now + dt.timedelta(minutes=15), code="ZZ7K3M9Q", booked_at=now,
    )
    post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "R"})
    arrived = post(kiosk, f"/centres/{centre.pk}/tickets",
                   {"group": "A", "appointment": "zz7k-3m9q"})
    assert arrived.status_code == 201, arrived.content
    body = arrived.json()
    assert (body["number"], body["group"], body["position"]) == ("R-002", "R", 0)
    assert body["due_at"] is not None
    ticket = Ticket.objects.get(number="R-002")
    assert ticket.source == "appointment"
    again = post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "R", "appointment": "ZZ7K3M9Q"})
    assert again.status_code == 409


def test_taking_a_ticket_needs_staff_of_the_centre(
    api_client: Api, make_user: Callable[..., User], make_staff: Callable[..., User],
    centre: Centre, other_centre: Centre,
) -> None:
    path = f"/centres/{centre.pk}/tickets"
    assert post(api_client(None), path, {"group": "A"}).status_code == 401
    for user in (make_user("citizen"), make_staff("operator", centre=other_centre),
                 make_user("analyst")):
        refused = post(api_client(user), path, {"group": "A"})
        assert refused.status_code == 403, user.role
        assert "detail" in refused.json()
    assert post(api_client(make_user("admin")), path, {"group": "A"}).status_code == 201
    assert post(api_client(make_staff("operator")), path, {"group": "A"}).status_code == 201


def test_bad_ticket_requests(kiosk: Client, centre: Centre) -> None:
    assert post(kiosk, "/centres/999999/tickets", {"group": "A"}).status_code == 404
    assert post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "Q"}).status_code == 422
    assert post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "A", "priority": "vip"}
                ).status_code == 422
    missing = post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "A", "appointment": "NOPE"})
    assert missing.status_code == 404
    assert post(kiosk, f"/centres/{centre.pk}/tickets", {}).status_code == 422


def test_an_operator_works_a_ticket_through_the_api(
    api_client: Api, make_operator: Callable[..., User], kiosk: Client, centre: Centre,
) -> None:
    operator = api_client(make_operator())
    assert post(operator, "/counter/call-next").status_code == 409  # no counter open
    opened = post(operator, "/counter/open", {"counter": 4})
    assert opened.status_code == 200, opened.content
    assert (opened.json()["counter"], opened.json()["ticket"]) == (4, None)
    assert post(operator, "/counter/call-next").json()["ticket"] is None
    post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "B"})
    post(kiosk, f"/centres/{centre.pk}/tickets", {"group": "B"})
    assert operator.get("/api/v1/counter").json()["waiting"] == 2
    called = post(operator, "/counter/call-next")
    assert called.json()["ticket"]["number"] == "B-001"
    assert called.json()["ticket"]["state"] == "called"
    assert post(operator, "/counter/recall").json()["ticket"]["recalls"] == 1
    assert post(operator, "/counter/no-show").status_code == 409  # too early
    assert post(operator, "/counter/serve").json()["ticket"]["state"] == "serving"
    identified = post(operator, "/counter/identify", {"national_id": "900101300123"})
    assert identified.json()["ticket"]["national_id"] == "900101300123"
    assert post(operator, "/counter/identify", {"national_id": "<script>"}).status_code == 422
    assert post(operator, "/counter/hold").json()["ticket"] is None
    back = post(operator, "/counter/call", {"number": "B-001"})
    assert back.json()["ticket"]["state"] == "called"
    post(operator, "/counter/serve")
    assert post(operator, "/counter/close").status_code == 409  # the ticket is at the counter
    finished = post(operator, "/counter/finish")
    assert finished.status_code == 200
    assert finished.json()["ticket"] is None
    assert Ticket.objects.get(number="B-001").state == TicketState.SERVED
    out_of_order = post(operator, "/counter/call", {"number": "B-002"})
    assert out_of_order.status_code == 200  # B-002 is the first in line now
    redirected = post(operator, "/counter/redirect", {"counter": 5, "reason": "notary"})
    assert redirected.status_code == 200, redirected.content
    assert Ticket.objects.get(number="B-002").target_counter.number == 5  # type: ignore[union-attr]
    closed = post(operator, "/counter/close")
    assert (closed.status_code, closed.json()["counter"]) == (200, None)


def test_no_show_through_the_api_after_the_wait(
    api_client: Api, operator_at: Callable[..., User], issue: Callable[..., Ticket],
) -> None:
    earlier = timezone.now() - dt.timedelta(minutes=10)
    issue("A", now=earlier)
    user = operator_at(4, now=earlier)
    operator = api_client(user)
    post(operator, "/counter/call-next")
    Ticket.objects.filter(number="A-001").update(called_at=earlier)
    gone = post(operator, "/counter/no-show")
    assert gone.status_code == 200, gone.content
    assert Ticket.objects.get(number="A-001").state == TicketState.NO_SHOW


def test_counter_actions_are_for_operators_only(
    api_client: Api, make_user: Callable[..., User], make_staff: Callable[..., User],
) -> None:
    for user in (make_user("citizen"), make_staff("supervisor"), make_user("admin")):
        client = api_client(user)
        assert client.get("/api/v1/counter").status_code == 403
        assert post(client, "/counter/open", {"counter": 1}).status_code == 403
    assert api_client(None).get("/api/v1/counter").status_code == 401


def test_an_operator_of_another_centre_gets_403_on_this_queue(
    api_client: Api, make_staff: Callable[..., User], other_centre: Centre, centre: Centre,
    issue: Callable[..., Ticket],
) -> None:
    issue("A")
    stranger = api_client(make_staff("operator", centre=other_centre))
    assert post(stranger, f"/centres/{centre.pk}/tickets", {"group": "A"}).status_code == 403
    post(stranger, "/counter/open", {"counter": 1})
    # their counter 1 is AST-02's: AST-01's A-001 is not theirs to call
    assert post(stranger, "/counter/call", {"number": "A-001"}).status_code == 404
    assert post(stranger, "/counter/call-next").json()["ticket"] is None


def test_bad_counter_requests(api_client: Api, make_operator: Callable[..., User]) -> None:
    operator = api_client(make_operator())
    assert post(operator, "/counter/open", {"counter": 99}).status_code == 404
    assert post(operator, "/counter/open", {"counter": 0}).status_code == 422
    assert post(operator, "/counter/open", {}).status_code == 422
    post(operator, "/counter/open", {"counter": 2})
    assert post(operator, "/counter/redirect", {}).status_code == 400  # neither counter nor group
    assert post(operator, "/counter/redirect", {"counter": 3}).status_code == 409  # no ticket
    assert post(operator, "/counter/call", {"number": "x"}).status_code == 400
    assert post(operator, "/counter/link", {"application": "ZZ-0"}).status_code == 404
