"""Services and e-forms through the GovStack façade: public, in the spec's shapes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.catalogue.models import Country, Service
from onestop.govstack.models import ExternalId, Kind
from onestop.govstack.selectors import service_ids
from tests.govstack.conftest import assert_matches

pytestmark = pytest.mark.django_db

MCTS = "f7d33db0-2809-484e-a780-76b7ccd4ecbf"
MCTS_FORM = "d98a205a-679b-485b-823d-7a32a391e744"


def test_healthcheck(gateway: Callable[..., Client]) -> None:
    response = gateway(None).get("/healthcheck")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_service_list_has_every_service_in_the_spec_shape(
    govstack: Country, gateway: Callable[..., Client]
) -> None:
    response = gateway(None).get("/services")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert_matches(body, "/services")
    assert len(body) == Service.objects.count()
    by_id = {row["id"]: row for row in body}
    assert by_id[MCTS]["name"] == "Mother and Child Registration"
    assert by_id[MCTS]["version"] == "2020-01-01"
    # a pack service without a GovStack id gets a stable derived uuid
    pack_service = Service.objects.exclude(code__startswith="GS").first()
    assert pack_service is not None
    derived = service_ids([pack_service])[pack_service.pk]
    assert derived in by_id
    assert gateway(None).get(f"/services/{derived}").json()[0]["id"] == derived


def test_name_filter_is_exact(govstack: Country, gateway: Callable[..., Client]) -> None:
    body = gateway(None).get("/services", {"name": "Zero Hunger"}).json()
    assert [row["name"] for row in body] == ["Zero Hunger"]
    assert gateway(None).get("/services", {"name": "Zero"}).json() == []


def test_one_service_and_unknown_ones(govstack: Country, gateway: Callable[..., Client]) -> None:
    response = gateway(None).get(f"/services/{MCTS}")
    assert response.status_code == 200
    # a list of the one service, as the compliance suite and the reference mock have it;
    # the service itself in the API document's `service` shape
    [one] = response.json()
    assert_matches(one, "/services/{serviceId}")
    assert_matches(response.json(), "/services")
    assert one["isExecutable"] is True
    assert gateway(None).get("/services/n0t-ex1st1ng").status_code == 404
    missing = gateway(None).get("/services/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert "detail" in missing.json()


def test_eforms_of_a_service_and_one_eform(govstack: Country,
                                           gateway: Callable[..., Client]) -> None:
    forms = gateway(None).get(f"/services/{MCTS}/eForms").json()
    assert_matches(forms, "/services/{serviceId}/eForms")
    assert forms == [{
        "eFormId": MCTS_FORM, "name": "Mother and Child Registration",
        "description": "A service of the GovStack conformance suite.",
        "version": "2020-01-01", "latest": True,
    }]
    response = gateway(None).get(f"/eForms/{MCTS_FORM}")
    assert response.status_code == 200
    assert_matches(response.json(), "/eForms/{eFormId}")
    standard = ExternalId.objects.get(kind=Kind.EFORM, external_id=MCTS_FORM).standard
    assert standard is not None
    assert response.json()["schema"] == standard.eform
    missing = gateway(None).get("/eForms/n0t-ex1st1ng")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")


def test_pack_eforms_by_derived_id(mini_country: Country, gateway: Callable[..., Client]) -> None:
    service = Service.objects.filter(versions__eform__isnull=False).exclude(
        versions__eform={}).first()
    assert service is not None
    service_id = service_ids([service])[service.pk]
    forms = gateway(None).get(f"/services/{service_id}/eForms").json()
    assert forms
    one = gateway(None).get(f"/eForms/{forms[0]['eFormId']}").json()
    assert one["schema"] == service.versions.get(valid_from=one["version"]).eform


def test_mounted_in_the_main_site(govstack: Country, client: Client) -> None:
    response = client.get(f"/govstack/services/{MCTS}")
    assert response.status_code == 200
    assert response.json()[0]["id"] == MCTS


def test_wrong_method(govstack: Country, gateway: Callable[..., Client]) -> None:
    response = gateway(None).delete("/services")
    assert response.status_code == 405
    assert response.json()["detail"]
