"""Catalogue pages rendered by the server: search, browse, and a service's whole standard."""

from __future__ import annotations

import pytest
from django.test import Client

from onestop.catalogue.models import Country


@pytest.fixture(autouse=True)
def _country_zz(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ONESTOP_COUNTRY = "zz"


def test_search_page_finds_by_kazakh_and_russian_words(
    mini_country: Country, client: Client
) -> None:
    for word in ("тууын", "рождения"):
        page = client.get("/services/", {"q": word}).content.decode()
        assert 'href="/services/01010001/"' in page
        assert "/services/02020001/" not in page


def test_service_page_shows_the_whole_standard(mini_country: Country, client: Client) -> None:
    page = client.get("/services/01010001/", {"on": "2025-05-05"}, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    for expected in (
        "Registration of a child&#x27;s birth",
        "Civil Registry Department",  # provider
        "2 working days",  # deadline of the 2024 version
        "30 minutes",  # maximum wait
        "20 minutes",  # maximum time at the counter
        "Birth certificate",  # result
        "free of charge",
        "ID card",  # applicant brings (2024 version)
        "Medical birth record",  # from state databases
        "Unreliable documents",  # refusal ground
        "Code on Marriage and Family",  # legal basis
        "Child&#x27;s name",  # e-form field
        "2026-03-10",  # the newer version is listed
    ):
        assert expected in html, expected


def test_service_page_current_version(mini_country: Country, client: Client) -> None:
    html = client.get("/services/01010001/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 working day" in html
    assert "1725.00 KZT" in html


def test_life_situation_and_agency_pages(mini_country: Country, client: Client) -> None:
    situation = client.get("/life-situations/job_loss/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Registration of job seekers" in situation.content.decode()
    agency = client.get("/agencies/MJ/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Civil Registry Department" in agency  # its unit
    assert "/services/01010001/" in agency  # services of its units
    assert client.get("/agencies/").status_code == 200


def test_unknown_things_are_404(mini_country: Country, client: Client) -> None:
    assert client.get("/services/00000000/").status_code == 404
    assert client.get("/agencies/NOPE/").status_code == 404
    assert client.get("/life-situations/nope/").status_code == 404
    assert client.get("/services/01010001/", {"on": "2001-01-01"}).status_code == 404


def test_country_switch_refuses_unknown_and_unsafe_targets(
    mini_country: Country, client: Client
) -> None:
    assert client.post("/country/", {"country": "xx"}).status_code == 400
    response = client.post("/country/", {"country": "zz", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_healthz(db: None, client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
