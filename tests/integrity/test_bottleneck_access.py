"""Who may see the bottlenecks and the optimisation report, in the API and on the pages:
a supervisor their own agency only, controllers and analysts every agency, citizens,
operators and officers nobody's; bad input gets a clear 4xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from tests.integrity import history

pytestmark = pytest.mark.django_db
URL = "/api/v1/integrity/bottlenecks"


@pytest.fixture
def flow(mini_country: Country, settings: Any) -> history.Flow:
    settings.ONESTOP_COUNTRY = "zz"
    return history.build(mini_country)


def test_controller_reads_any_service(flow: history.Flow, make_user: Callable[..., User],
                                      api_client: Callable[[User | None], Client]) -> None:
    client = api_client(make_user("controller"))
    response = client.get(URL, {"service": "01010001", "period": "2026-07"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["slowest_stage"] == "approved"
    assert body["applications"] == 5
    approved = next(s for s in body["stages"] if s["stage"] == "approved")
    assert (approved["median_hours"], approved["median_working_days"]) == (72.0, 3.0)
    assert body["rework"]["documents"][0]["repeated_applications"] == 2
    response = client.get(URL, {"service": "09090001", "period": "2026-Q3"})
    assert response.json()["interagency"][0]["agency"] == "MJ-ZAGS"
    report = client.get("/api/v1/integrity/optimisation/MLSP", {"period": "2026-07"})
    assert report.status_code == 200
    assert report.json()["recommended"][0]["kind"] == "interagency_wait"


def test_supervisor_sees_own_agency_only(flow: history.Flow, make_user: Callable[..., User],
                                         api_client: Callable[[User | None], Client]) -> None:
    client = api_client(make_user("supervisor", agency_code="MJ-ZAGS", country_code="zz"))
    assert client.get(URL, {"service": "01010001", "period": "2026-07"}).status_code == 200
    other = client.get(URL, {"service": "09090001", "period": "2026-07"})
    assert other.status_code == 403
    assert "own agency" in other.json()["detail"]
    own = client.get("/api/v1/integrity/optimisation/MJ-ZAGS", {"period": "2026-07"})
    assert own.status_code == 200
    assert own.json()["recommended"][0]["subject"] == "approved"
    assert client.get("/api/v1/integrity/optimisation/MLSP",
                      {"period": "2026-07"}).status_code == 403


@pytest.mark.parametrize(("role", "scope"), [
    ("operator", {"centre_code": "AST-01", "country_code": "zz"}),
    ("officer", {"agency_code": "MJ-ZAGS", "country_code": "zz"}),
])
def test_other_staff_denied(flow: history.Flow, make_user: Callable[..., User],
                            api_client: Callable[[User | None], Client], role: str,
                            scope: dict[str, str]) -> None:
    client = api_client(make_user(role, **scope))
    assert client.get(URL, {"service": "01010001", "period": "2026-07"}).status_code == 403
    assert client.get("/api/v1/integrity/optimisation/MJ-ZAGS",
                      {"period": "2026-07"}).status_code == 403


def test_citizen_and_anonymous_denied(flow: history.Flow, make_user: Callable[..., User],
                                      api_client: Callable[[User | None], Client]) -> None:
    query = {"service": "01010001", "period": "2026-07"}
    assert api_client(make_user("citizen")).get(URL, query).status_code == 403
    assert api_client(None).get(URL, query).status_code == 401


def test_bad_input(flow: history.Flow, make_user: Callable[..., User],
                   api_client: Callable[[User | None], Client]) -> None:
    client = api_client(make_user("analyst"))
    assert client.get(URL, {"service": "01010001", "period": "2026-13"}).status_code == 422
    missing = client.get(URL, {"service": "99999999", "period": "2026-07"})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no service '99999999' in zz"
    assert client.get("/api/v1/integrity/optimisation/NOPE",
                      {"period": "2026-07"}).status_code == 404


# --------------------------------------------------------------------------- pages


def _signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_pages_for_a_controller(flow: history.Flow, make_user: Callable[..., User],
                                client: Client) -> None:
    _signed_in(client, make_user("controller"))
    page = client.get("/integrity/bottlenecks/", {"service": "01010001", "period": "2026-07"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    assert "Dwell time per stage" in html
    assert "(slowest)" in html
    assert "Approved" in html
    assert "72.0" in html
    report = client.get("/integrity/optimisation/MJ-ZAGS/", {"period": "2026-07"})
    assert report.status_code == 200
    assert "Automate the stage “Approved” (service 01010001)" in report.content.decode()
    pdf = client.get("/integrity/optimisation/MJ-ZAGS/pdf/", {"period": "2026-07"})
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_page_form_errors(flow: history.Flow, make_user: Callable[..., User],
                          client: Client) -> None:
    _signed_in(client, make_user("analyst"))
    assert client.get("/integrity/bottlenecks/").status_code == 200
    bad = client.get("/integrity/bottlenecks/", {"service": "01010001", "period": "July"})
    assert bad.status_code == 400
    assert "Write the period as 2026" in bad.content.decode()
    assert client.get("/integrity/optimisation/MJ-ZAGS/",
                      {"period": "July"}).status_code == 400


def test_pages_for_a_supervisor(flow: history.Flow, make_user: Callable[..., User],
                                client: Client) -> None:
    _signed_in(client, make_user("supervisor", agency_code="MLSP", country_code="zz"))
    own = client.get("/integrity/bottlenecks/", {"service": "09090001", "period": "2026-07"})
    assert own.status_code == 200
    other = client.get("/integrity/bottlenecks/", {"service": "01010001", "period": "2026-07"})
    assert other.status_code == 400  # not among the services they may choose
    assert "Approved" not in other.content.decode()
    assert client.get("/integrity/optimisation/MJ-ZAGS/",
                      {"period": "2026-07"}).status_code == 403
    assert client.get("/integrity/optimisation/MJ-ZAGS/pdf/",
                      {"period": "2026-07"}).status_code == 403
    assert client.get("/integrity/optimisation/MLSP/", {"period": "2026-07"}).status_code == 200


@pytest.mark.parametrize(("role", "scope"), [
    ("citizen", {}), ("operator", {"centre_code": "AST-01", "country_code": "zz"}),
])
def test_pages_denied(flow: history.Flow, make_user: Callable[..., User], client: Client,
                      role: str, scope: dict[str, str]) -> None:
    _signed_in(client, make_user(role, **scope))
    assert client.get("/integrity/bottlenecks/").status_code == 403
    assert client.get("/integrity/optimisation/MJ-ZAGS/").status_code == 403
    assert client.get("/integrity/optimisation/MJ-ZAGS/pdf/").status_code == 403


def test_anonymous_sent_to_sign_in(flow: history.Flow, client: Client) -> None:
    response = client.get("/integrity/bottlenecks/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
