"""The register's API: search in any language, versions by date, scoped edits, clear errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.catalogue.models import Country, ServiceStandard


@pytest.fixture(autouse=True)
def _country_zz(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ONESTOP_COUNTRY = "zz"


def test_search_by_russian_and_kazakh_words(mini_country: Country, client: Client) -> None:
    for query in ("рождения", "РОЖДЕНИЯ ребенка", "тууын", "Тіркеу баланың"):
        body = client.get("/api/v1/services", {"q": query}).json()
        assert [item["code"] for item in body["items"]] == ["01010001"], query
    assert client.get("/api/v1/services", {"q": "рождения пенсия"}).json()["count"] == 0


def test_filters_by_agency_with_sub_units_and_life_situation(
    mini_country: Country, client: Client
) -> None:
    by_parent = client.get("/api/v1/services", {"agency": "MJ"}).json()
    assert [i["code"] for i in by_parent["items"]] == ["01010001"]  # provided by MJ-ZAGS
    by_situation = client.get("/api/v1/services", {"life_situation": "job_loss"}).json()
    assert [i["code"] for i in by_situation["items"]] == ["02020001"]


def test_service_returns_current_version_and_older_one_on_a_date(
    mini_country: Country, client: Client
) -> None:
    current = client.get("/api/v1/services/01010001", {"lang": "ru"}).json()
    assert current["valid_from"] == "2026-03-10"
    assert current["name"] == "Регистрация рождения ребенка"
    assert current["fee"] == {
        "amount": "1725.00", "currency": "KZT", "note": "За внесение изменений",
        "payment": ["portal"],
    }
    assert current["versions"] == ["2026-03-10", "2024-01-01"]
    older = client.get("/api/v1/services/01010001", {"on": "2025-06-01", "lang": "en"}).json()
    assert older["valid_from"] == "2024-01-01"
    assert older["deadline"] == {"value": 2, "unit": "working_days"}
    assert older["documents"] == [
        {"code": "id_card", "name": "ID card", "source": "applicant", "required": True},
        {"code": "medical_birth", "name": "Medical birth record", "source": "state_database",
         "required": True},
    ]
    assert older["refusal_grounds"] == [{"code": "unreliable", "text": "Unreliable documents"}]
    assert older["provider"] == {"code": "MJ-ZAGS", "name": "Civil Registry Department"}
    assert older["eform"]["required"] == ["child_name", "iin"]


def test_missing_language_falls_back_to_the_pack_languages(
    mini_country: Country, client: Client
) -> None:
    body = client.get("/api/v1/services/01010001", {"lang": "uz"}).json()
    assert body["name"] == "Баланың тууын тіркеу"  # no uz text: the state language (kk)


@pytest.mark.parametrize(
    ("path", "params", "status", "fragment"),
    [
        ("/api/v1/services/99999999", {}, 404, "no service '99999999'"),
        ("/api/v1/services/01010001", {"on": "2020-01-01"}, 404, "no standard in force"),
        ("/api/v1/services/01010001", {"on": "yesterday"}, 422, "on:"),
        ("/api/v1/services", {"lang": "fr"}, 422, "lang:"),
        ("/api/v1/services", {"limit": "0"}, 422, "limit:"),
        ("/api/v1/services", {"country": "xx"}, 404, "no country 'xx'"),
        ("/api/v1/services", {"country": "XYZ"}, 422, "country:"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_message(
    mini_country: Country, client: Client, path: str, params: dict[str, str], status: int,
    fragment: str,
) -> None:
    response = client.get(path, params)
    assert response.status_code == status
    assert fragment in response.json()["detail"]


def _new_version(client: Client, valid_from: str = "2027-01-01", **changes: object) -> object:
    return client.post(
        "/api/v1/services/01010001/versions",
        {"valid_from": valid_from, "changes": changes or {"deadline": {"value": 3, "unit":
                                                                        "working_days"}}},
        content_type="application/json",
    )


def test_supervisor_of_the_provider_publishes_a_version(
    mini_country: Country, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    # a supervisor of the parent ministry covers its civil-registry sub-unit
    supervisor = make_user("supervisor", agency_code="MJ", country_code="zz")
    response = _new_version(api_client(supervisor), fee_amount="2000.00")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["valid_from"] == "2027-01-01"
    assert body["fee"]["amount"] == "2000.00"
    assert body["deadline"] == {"value": 1, "unit": "working_days"}  # copied from 2026-03-10
    assert ServiceStandard.objects.filter(service__code="01010001").count() == 3
    again = _new_version(api_client(supervisor), fee_amount="1.00")
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


def test_other_agencies_and_citizens_cannot_edit(
    mini_country: Country, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    outsider = make_user("supervisor", agency_code="MLSP", country_code="zz")
    officer = make_user("officer", agency_code="MJ-ZAGS", country_code="zz")
    citizen = make_user("citizen")
    forbidden = _new_version(api_client(outsider))
    assert forbidden.status_code == 403
    assert "supervisor of the providing agency" in forbidden.json()["detail"]
    assert _new_version(api_client(officer)).status_code == 403
    citizen_answer = _new_version(api_client(citizen))
    assert citizen_answer.status_code == 403
    assert "citizen" in citizen_answer.json()["detail"]
    assert _new_version(api_client(None)).status_code == 401
    assert ServiceStandard.objects.filter(service__code="01010001").count() == 2


def test_invalid_version_payloads_are_refused(
    mini_country: Country, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    admin = api_client(make_user("admin"))
    empty = _new_version(admin, name=None)
    assert empty.status_code == 422
    bad_schema = _new_version(admin, eform={"type": 5})
    assert bad_schema.status_code == 422
    assert "eform is not a valid JSON Schema" in bad_schema.json()["detail"]
    negative = _new_version(admin, max_wait_minutes=-1)
    assert negative.status_code == 422
    assert "max_wait_minutes" in negative.json()["detail"]
    assert admin.post(
        "/api/v1/services/01010001/versions", "not json", content_type="application/json"
    ).status_code in (400, 422)


def test_agencies_life_situations_countries(mini_country: Country, client: Client) -> None:
    agencies = client.get("/api/v1/agencies", {"lang": "en"}).json()
    assert {"code": "MJ-ZAGS", "name": "Civil Registry Department", "kind": "committee",
            "parent": "MJ", "region": "AST"} in agencies
    situations = client.get("/api/v1/life-situations").json()
    assert [s["code"] for s in situations] == ["birth", "job_loss"]
    countries = client.get("/api/v1/countries").json()
    assert countries[0]["code"] == "zz"
