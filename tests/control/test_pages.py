"""The violations pages: who may see them, filters, paging and the handling form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.centres.models import Ticket
from onestop.control import services
from onestop.control.models import Violation, ViolationState
from tests.control.conftest import MONDAY

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def scanned(mini_country: Country, make_app: Callable[..., Application],
            make_ticket: Callable[..., Ticket]) -> dict[str, Violation]:
    late = make_app(deadline_at=MONDAY + timedelta(days=1))
    ticket = make_ticket(wait_seconds=3 * 3600)
    services.scan(mini_country, MONDAY + timedelta(days=2))
    return {"late": Violation.objects.get(application=late),
            "wait": Violation.objects.get(ticket=ticket)}


def test_the_list_for_controllers_shows_the_person(
    scanned: dict[str, Violation], controller: User, officer: User, operator: User
) -> None:
    page = signed_in(controller).get("/control/violations/")
    assert page.status_code == 200
    text = page.content.decode()
    assert scanned["late"].application.number in text
    assert "Responsible person" in text
    assert officer.username in text
    assert operator.username in text


def test_supervisors_see_their_own_and_the_person_only_on_one(
    scanned: dict[str, Violation], supervisor: User, officer: User
) -> None:
    client = signed_in(supervisor)
    text = client.get("/control/violations/").content.decode()
    assert scanned["late"].application.number in text
    assert scanned["wait"].ticket.number not in text
    assert officer.username not in text
    one = client.get(f"/control/violations/{scanned['late'].pk}/")
    assert one.status_code == 200
    assert officer.username in one.content.decode()
    assert client.get(f"/control/violations/{scanned['wait'].pk}/").status_code == 404


def test_who_may_not(
    scanned: dict[str, Violation], officer: User, operator: User
) -> None:
    anonymous = Client(HTTP_HOST="localhost").get("/control/violations/")
    assert anonymous.status_code == 302
    assert "/accounts/" in anonymous["Location"]
    for user in (officer, operator):
        assert signed_in(user).get("/control/violations/").status_code == 403
        assert signed_in(user).get(
            f"/control/violations/{scanned['late'].pk}/").status_code == 403


def test_filters_and_bad_input(scanned: dict[str, Violation], controller: User) -> None:
    client = signed_in(controller)
    text = client.get("/control/violations/?kind=wait_over").content.decode()
    assert scanned["wait"].ticket.number in text
    assert scanned["late"].application.number not in text
    text = client.get("/control/violations/?agency=MJ-ZAGS&state=open").content.decode()
    assert scanned["late"].application.number in text
    text = client.get("/control/violations/?since=2026-03-05").content.decode()
    assert "No violations." in text
    bad = client.get("/control/violations/?kind=nonsense&since=2026-03-09&until=2026-03-01")
    assert bad.status_code == 422
    assert "before its start" in bad.content.decode()


def test_handling_from_the_page(scanned: dict[str, Violation], supervisor: User,
                                analyst: User) -> None:
    client = signed_in(supervisor)
    url = f"/control/violations/{scanned['late'].pk}/"
    missing = client.post(url, {"action": "explain", "note": ""})
    assert missing.status_code == 422
    done = client.post(url, {"action": "explain", "note": "Staff shortage."})
    assert done.status_code == 302
    scanned["late"].refresh_from_db()
    assert scanned["late"].state == ViolationState.EXPLAINED
    page = client.get(url).content.decode()
    assert "Staff shortage." in page
    assert signed_in(analyst).post(url, {"action": "close"}).status_code == 403
