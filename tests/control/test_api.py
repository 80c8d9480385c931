"""The violations API: visibility, filters, the person field and handling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.centres.models import Ticket
from onestop.control import services
from onestop.control.models import Violation
from tests.control.conftest import MONDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(mini_country: Country, make_app: Callable[..., Application],
            make_ticket: Callable[..., Ticket]) -> dict[str, Violation]:
    late = make_app(deadline_at=MONDAY + timedelta(days=1))
    ticket = make_ticket(wait_seconds=3 * 3600)
    services.scan(mini_country, MONDAY + timedelta(days=2))
    return {"late": Violation.objects.get(application=late),
            "wait": Violation.objects.get(ticket=ticket)}


def get(client: Client, url: str) -> tuple[int, Any]:
    response = client.get(url)
    return response.status_code, response.json()


def test_controllers_see_all_with_the_person(
    scanned: dict[str, Violation], controller: User, officer: User,
    api_client: Callable[[User | None], Client],
) -> None:
    status, body = get(api_client(controller), "/api/v1/violations")
    assert status == 200
    assert body["count"] == 2
    late = next(i for i in body["items"] if i["kind"] == "deadline_missed")
    assert late["person"] == officer.username
    assert late["agency"] == "MJ-ZAGS"
    assert late["found_by"] == "control"


def test_supervisors_see_their_own_without_the_person_in_lists(
    scanned: dict[str, Violation], supervisor: User, manager: User, officer: User,
    api_client: Callable[[User | None], Client],
) -> None:
    status, body = get(api_client(supervisor), "/api/v1/violations")
    assert status == 200
    assert [i["id"] for i in body["items"]] == [scanned["late"].pk]
    assert body["items"][0]["person"] is None
    status, one = get(api_client(supervisor), f"/api/v1/violations/{scanned['late'].pk}")
    assert status == 200
    assert one["person"] == officer.username
    assert one["actions"] == ["acknowledge", "explain", "penalise", "close"]
    status, _ = get(api_client(supervisor), f"/api/v1/violations/{scanned['wait'].pk}")
    assert status == 404
    status, body = get(api_client(manager), "/api/v1/violations")
    assert [i["id"] for i in body["items"]] == [scanned["wait"].pk]


def test_others_are_refused(
    scanned: dict[str, Violation], officer: User, operator: User,
    make_user: Callable[..., User], api_client: Callable[[User | None], Client],
) -> None:
    assert api_client(None).get("/api/v1/violations").status_code == 401
    for user in (officer, operator, make_user("citizen")):
        status, body = get(api_client(user), "/api/v1/violations")
        assert status == 403
        assert "supervisors" in body["detail"]
        assert api_client(user).get(
            f"/api/v1/violations/{scanned['late'].pk}").status_code == 403


def test_filters(
    scanned: dict[str, Violation], controller: User,
    api_client: Callable[[User | None], Client],
) -> None:
    client = api_client(controller)
    assert get(client, "/api/v1/violations?kind=wait_over")[1]["count"] == 1
    assert get(client, "/api/v1/violations?agency=MJ-ZAGS")[1]["count"] == 1
    assert get(client, "/api/v1/violations?found_by=self")[1]["count"] == 0
    assert get(client, "/api/v1/violations?state=active")[1]["count"] == 2
    assert get(client, "/api/v1/violations?since=2026-03-05T00:00:00%2B05:00")[1]["count"] == 0
    assert get(client, "/api/v1/violations?kind=nonsense")[0] == 422
    status, body = get(client, "/api/v1/violations?since=2026-03-05T00:00:00Z"
                               "&until=2026-03-01T00:00:00Z")
    assert status == 422
    assert "since" in str(body)


def test_handling_through_the_api(
    scanned: dict[str, Violation], supervisor: User, analyst: User, controller: User,
    api_client: Callable[[User | None], Client],
) -> None:
    url = f"/api/v1/violations/{scanned['late'].pk}"
    client = api_client(supervisor)
    response = client.post(f"{url}/explain", {"note": ""}, content_type="application/json")
    assert response.status_code == 422
    assert "note" in response.json()["detail"]
    response = client.post(f"{url}/explain", {"note": "Staff shortage."},
                           content_type="application/json")
    assert response.status_code == 200
    assert response.json()["state"] == "explained"
    assert response.json()["handled_by"] == supervisor.username
    response = api_client(analyst).post(f"{url}/close", {}, content_type="application/json")
    assert response.status_code == 403
    response = api_client(controller).post(f"{url}/close", {},
                                           content_type="application/json")
    assert response.json()["state"] == "closed"
    response = client.post(f"{url}/close", {}, content_type="application/json")
    assert response.status_code == 409
    assert client.post(f"{url}/forget", {}, content_type="application/json"
                       ).status_code == 422
    assert client.post("/api/v1/violations/999999/close", {},
                       content_type="application/json").status_code == 404
