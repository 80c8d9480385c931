"""One application for a life situation, and a proactive service that starts by itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.applications import services
from onestop.applications.models import Application, ProactiveOffer
from onestop.catalogue.models import Country, Service
from tests.applications.samples import sample_documents, sample_for, uploads


@pytest.fixture
def parent(make_user: Callable[..., User]) -> User:
    return make_user("citizen", national_id="900101300011")


def post(client: Client, path: str, body: object) -> object:
    return client.post(path, body, content_type="application/json")


def test_birth_bundle_submits_all_services_together(
    kz: Country, parent: User, api_client: Callable[[User | None], Client]
) -> None:
    birth = Service.objects.filter(country=kz, life_situations__code="birth").order_by("code")
    portal = [s for s in birth
              if {"portal", "mobile"} & set(s.versions.order_by("-valid_from")[0].channels)]
    assert len(portal) >= 3
    forms = {s.code: sample_for(s) for s in portal[:3]}
    documents = {s.code: sample_documents(s) for s in portal[:3]}
    answer = post(api_client(parent), "/api/v1/bundles",
                  {"life_situation": "birth", "country": "kz", "services": forms,
                   "documents": documents})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert sorted(a["service"]["code"] for a in body["applications"]) == sorted(forms)
    assert Application.objects.filter(bundle__number=body["number"]).count() == 3


def test_one_bad_form_submits_none_of_the_bundle(
    kz: Country, parent: User, api_client: Callable[[User | None], Client]
) -> None:
    registration = Service.objects.get(country=kz, code="01010001")
    answer = post(api_client(parent), "/api/v1/bundles", {
        "life_situation": "birth", "country": "kz",
        "services": {"01010001": sample_for(registration), "02010001": {"nonsense": 1}},
    })
    assert answer.status_code == 422
    assert "02010001.form" in answer.json()["detail"]
    assert Application.objects.count() == 0


def test_issued_birth_registration_offers_the_allowance(
    kz: Country, parent: User, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    registration = Service.objects.get(country=kz, code="01010001")
    submitted = services.submit(
        service=registration, form_data=sample_for(registration), channel="portal",
        national_id=parent.national_id, applicant=parent, submitted_by=parent,
        documents=uploads(registration),
    ).application
    officer = make_user("officer", agency_code=submitted.agency.code, country_code="kz")
    result = services.UploadedDocument("certificate", "c.pdf", "application/pdf", b"%PDF r")
    services.act(application=submitted, user=officer, action="accept")
    services.act(application=submitted, user=officer, action="approve",
                 result_document=result)
    issued = services.act(application=submitted, user=officer, action="issue")
    assert issued.outcome == "issued"

    me = api_client(parent)
    offers = me.get("/api/v1/offers").json()
    assert [(o["service"]["code"], o["status"], o["source"]) for o in offers] == [
        ("02010001", "offered", submitted.number)]
    assert offers[0]["form"]["iin"] == parent.national_id  # known to the state: prefilled
    allowance = Service.objects.get(country=kz, code="02010001")
    missing = {k: v for k, v in sample_for(allowance).items() if k not in offers[0]["form"]}
    confirmed = post(me, f"/api/v1/offers/{offers[0]['id']}/confirm", {"form": missing})
    assert confirmed.status_code == 201, confirmed.content
    started = Application.objects.get(number=confirmed.json()["number"])
    assert (started.channel, started.started_by_id) == ("proactive", submitted.pk)
    again = post(me, f"/api/v1/offers/{offers[0]['id']}/confirm", {"form": missing})
    assert again.status_code == 409
    assert ProactiveOffer.objects.get().status == "confirmed"
