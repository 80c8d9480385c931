"""schema.org GovernmentService markup on the catalogue's service pages, read back from
the page as a search engine would."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from onestop.catalogue.models import Country, ServiceStandard


@pytest.fixture(autouse=True)
def _country_zz(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ONESTOP_COUNTRY = "zz"


class LinkedData(HTMLParser):
    """Collects the bodies of <script type="application/ld+json"> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inside = tag == "script" and ("type", "application/ld+json") in attrs
        if self._inside:
            self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.blocks[-1] += data


def markup(html: str) -> list[dict[str, Any]]:
    parser = LinkedData()
    parser.feed(html)
    return [json.loads(block) for block in parser.blocks]


def test_service_page_carries_its_government_service(mini_country: Country,
                                                     client: Client) -> None:
    page = client.get("/services/01010001/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    [data] = markup(page.content.decode())
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "GovernmentService"
    assert data["identifier"] == "01010001"
    assert data["name"].startswith("Registration of a child's birth")
    assert data["description"]
    assert data["url"] == "http://localhost/services/01010001/"
    assert data["provider"]["@type"] == "GovernmentOrganization"
    assert data["provider"]["name"] == "Civil Registry Department"
    assert data["provider"]["url"].endswith(f"/agencies/{data['provider']['identifier']}/")
    assert data["areaServed"]["@type"] == "Country"
    assert data["areaServed"]["identifier"] == "zz"
    assert data["serviceType"]  # the life situation's name
    standard = ServiceStandard.objects.filter(service__country=mini_country,
                                              service__code="01010001").first()
    assert standard is not None
    channels = data["availableChannel"]
    assert len(channels) == len(standard.channels)
    assert all(c["@type"] == "ServiceChannel" and c["name"] for c in channels)
    assert "portal" in standard.channels
    apply = "http://localhost" + reverse("portal:apply", args=["01010001"])
    assert [c["serviceUrl"] for c in channels if "serviceUrl" in c] == [apply]


def test_markup_follows_the_page_language(mini_country: Country, client: Client) -> None:
    english = markup(client.get("/services/01010001/",
                                HTTP_ACCEPT_LANGUAGE="en").content.decode())[0]
    russian = markup(client.get("/services/01010001/",
                                HTTP_ACCEPT_LANGUAGE="ru").content.decode())[0]
    assert russian["name"].startswith("Регистрация рождения")
    assert russian["provider"]["identifier"] == english["provider"]["identifier"]
    assert russian["name"] != english["name"]


def test_markup_cannot_break_out_of_its_script(mini_country: Country, client: Client) -> None:
    """A register text with markup in it stays inside the JSON string."""
    ServiceStandard.objects.filter(service__country=mini_country,
                                   service__code="01010001").update(
        name={"en": "Birth </script><script>alert(1)</script> & more"})
    html = client.get("/services/01010001/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<script>alert(1)" not in html
    [data] = markup(html)
    assert data["name"] == "Birth </script><script>alert(1)</script> & more"


def test_a_page_without_a_standard_in_force_has_no_markup(mini_country: Country,
                                                          client: Client) -> None:
    page = client.get("/services/01010001/", {"on": "1990-01-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 404
    assert markup(page.content.decode()) == []
