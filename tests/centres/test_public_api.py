"""The centres' read API: the public list, a centre, its live queue (no personal data),
and the staff-only statistics with their permissions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.catalogue.selectors import local_today
from onestop.centres.models import Centre, ServiceGroup, SliceKind, TicketSlice, TicketState
from tests.centres.conftest import DAY
from tests.centres.test_stats import make_ticket, waiting_ticket

ApiClient = Callable[[User | None], Client]


def get(client: Client, url: str) -> tuple[int, Any]:
    response = client.get(url)
    return response.status_code, response.json()


def test_the_list_of_centres(api_client: ApiClient, centre: Centre, other_centre: Centre,
                             group: Callable[[str], ServiceGroup]) -> None:
    now = timezone.now()
    waiting_ticket(other_centre, group("A"), (SliceKind.WAITING, now, None))
    status, body = get(api_client(None), "/api/v1/centres?country=zz&lang=en")
    assert status == 200
    assert body["count"] == 2
    items = {c["code"]: c for c in body["items"]}
    ast = items["AST-01"]
    assert ast["id"] == centre.pk
    assert ast["name"] == "Astana Centre No. 1"
    assert ast["names"]["ru"] == "ЦОН Астаны №1"
    assert ast["address"] == "8 Mangilik Yel"
    assert (ast["region"], ast["region_name"], ast["kind"]) == ("AST", "Astana", "centre")
    assert ast["counters"] == 12
    assert ast["opening_hours"]["monday"] == ["09:00-18:00"]
    assert isinstance(ast["open_now"], bool)
    assert ast["waiting"] == 0
    assert items["AST-02"]["waiting"] == 1
    assert items["AST-02"]["expected_wait_minutes"] is None  # no counter open

    status, body = get(api_client(None), "/api/v1/centres?country=zz&region=AST&lang=ru")
    assert body["count"] == 2
    assert body["items"][0]["name"] == "ЦОН Астаны №1"
    status, body = get(api_client(None), "/api/v1/centres?country=zz&region=ALA")
    assert (status, body["count"]) == (200, 0)
    status, body = get(api_client(None), "/api/v1/centres?country=qq")
    assert status == 404


def test_a_centre_and_unknown_ids(api_client: ApiClient, centre: Centre) -> None:
    status, body = get(api_client(None), f"/api/v1/centres/{centre.pk}?lang=kk")
    assert status == 200
    assert body["code"] == "AST-01"
    assert body["name"] == "Астана №1 ХҚКО"
    for url in (f"/api/v1/centres/{centre.pk + 1000}", f"/api/v1/centres/{centre.pk + 1000}/queue"):
        status, body = get(api_client(None), url)
        assert status == 404
        assert body["detail"] == f"no centre {centre.pk + 1000}"
    status, _ = get(api_client(None), f"/api/v1/centres/{2**70}")
    assert status == 422


@pytest.fixture
def busy_today(
    centre: Centre, group: Callable[[str], ServiceGroup], make_user: Callable[..., User],
    operator_at: Callable[..., User],
) -> dict[str, Any]:
    """Today at AST-01: named citizens with national IDs, an operator at counter 4."""
    now = timezone.now()
    today = local_today(centre.country, now)
    operator = operator_at(4, now=now - dt.timedelta(hours=1))
    citizen = make_user("citizen", national_id="900101300123")
    citizen.first_name, citizen.last_name = "Aigerim", "Nurlanovna"
    citizen.save()
    a = group("A")
    personal = {"citizen": citizen, "national_id": "900101300123", "operator": operator,
                "day": today}
    make_ticket(centre, a, now, wait=300, service=600, counter=4, finished_at=now, **personal)
    make_ticket(centre, a, now, wait=2400, service=600, counter=4, finished_at=now, **personal)
    serving = make_ticket(centre, a, now, state=TicketState.SERVING, counter=4, **personal)
    TicketSlice.objects.create(ticket=serving, kind=SliceKind.SERVING, started_at=now,
                               counter=serving.counter, operator=operator)
    waiting = waiting_ticket(centre, a, (SliceKind.WAITING, now - dt.timedelta(minutes=12),
                                         None))
    waiting.citizen, waiting.national_id, waiting.day = citizen, "900101300123", today
    waiting.save()
    return {"serving": serving, "operator": operator, "citizen": citizen}


def test_the_queue_now_has_no_personal_data(
    api_client: ApiClient, centre: Centre, busy_today: dict[str, Any]
) -> None:
    response = api_client(None).get(f"/api/v1/centres/{centre.pk}/queue?lang=en")
    assert response.status_code == 200
    text = response.content.decode()
    citizen, operator = busy_today["citizen"], busy_today["operator"]
    for secret in ("900101300123", "Aigerim", "Nurlanovna", citizen.username,
                   operator.username, "national_id", "operator"):
        assert secret not in text
    body = response.json()
    a = next(g for g in body["groups"] if g["code"] == "A")
    assert a["name"] == "Documents"
    assert a["waiting"] == 1
    assert a["open_counters"] == 1
    assert a["longest_wait_minutes"] >= 12
    assert a["service_time_from"] == "recent"
    assert a["mean_service_minutes"] == 10
    assert a["expected_wait_minutes"] == 10  # 1 ahead * 10 minutes / 1 counter
    assert a["now_serving"] == [{"number": busy_today["serving"].number, "counter": 4,
                                 "state": "serving"}]
    assert a["today_served"] == 2
    assert a["today_avg_wait_minutes"] == 22.5  # (5 + 40) / 2
    assert a["today_p90_wait_minutes"] == 40
    assert a["max_wait_minutes"] == 15  # 01010001's standard in force now
    assert a["today_within_standard_share"] == 0.5


@pytest.fixture
def day_history(centre: Centre, group: Callable[[str], ServiceGroup],
                at: Callable[..., dt.datetime]) -> None:
    a = group("A")
    for wait, state in [(600, TicketState.SERVED), (1200, TicketState.SERVED),
                        (2400, TicketState.SERVED), (300, TicketState.NO_SHOW)]:
        make_ticket(centre, a, at(10, 0), state=state, wait=wait,
                    service=900 if state == TicketState.SERVED else None, counter=2)


@pytest.mark.usefixtures("day_history")
def test_the_statistics_of_a_period(api_client: ApiClient, centre: Centre,
                                    make_user: Callable[..., User]) -> None:
    status, body = get(api_client(make_user("analyst")),
                       f"/api/v1/centres/{centre.pk}/statistics?from={DAY}&to={DAY}&lang=en")
    assert status == 200, body
    assert (body["from"], body["to"]) == (str(DAY), str(DAY))
    total = body["total"]
    assert (total["tickets"], total["served"], total["no_show"]) == (4, 3, 1)
    assert total["avg_wait_minutes"] == round(4500 / 4 / 60, 1)
    assert total["p90_wait_minutes"] == 40
    assert total["within_standard_share"] == 0.75  # A allowed 30 minutes on DAY
    assert total["no_show_rate"] == 0.25
    assert total["avg_service_minutes"] == 15
    assert body["groups"][0]["code"] == "A"
    assert body["groups"][0]["max_wait_minutes"] == 30
    assert body["by_source"] == {"kiosk": 4}
    assert body["served_per_counter"] == {"2": 3}


def test_who_may_read_the_statistics(
    api_client: ApiClient, centre: Centre, other_centre: Centre,
    make_user: Callable[..., User], make_staff: Callable[..., User], mini_country: Country,
) -> None:
    url = f"/api/v1/centres/{centre.pk}/statistics"
    allowed = [make_staff("supervisor"), make_staff("operator"), make_user("controller"),
               make_user("analyst"), make_user("admin")]
    for user in allowed:
        assert api_client(user).get(url).status_code == 200, user.role
    agency = mini_country.agencies.first()
    refused = [make_staff("operator", centre=other_centre),
               make_staff("supervisor", centre=other_centre),
               make_user("supervisor", agency_code=agency.code, country_code="zz"),
               make_user("officer", agency_code=agency.code, country_code="zz"),
               make_user("citizen")]
    for user in refused:
        assert api_client(user).get(url).status_code == 403, user.role
    assert api_client(None).get(url).status_code == 401


def test_a_bad_period_is_a_clear_422(api_client: ApiClient, centre: Centre,
                                     make_user: Callable[..., User]) -> None:
    client = api_client(make_user("admin"))
    url = f"/api/v1/centres/{centre.pk}/statistics"
    status, body = get(client, f"{url}?from=2026-03-05&to=2026-03-01")
    assert status == 422
    assert "ends before it starts" in body["detail"]
    status, body = get(client, f"{url}?from=2024-01-01&to=2026-01-01")
    assert status == 422
    assert "longer than 366 days" in body["detail"]
    status, body = get(client, f"{url}?from=2026-13-01")
    assert status == 422
    assert "from" in body["detail"]
    status, _ = get(client, f"/api/v1/centres/{centre.pk + 1000}/statistics")
    assert status == 404
