"""The portal and the counter with a shipped pack's own services (Kazakhstan's), whose
standards list the application itself among the documents and mark the applicant's IIN
(`x-applicant-id`), as the mini pack of the other page tests does not."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.catalogue.models import Country
from tests.applications.pages import pdf, signed_in, text

NAME_CHANGE = "01020002"  # the IIN, the reason; the application, an ID document


@pytest.fixture(autouse=True)
def country(kz: Country, settings: Any) -> Country:
    settings.ONESTOP_COUNTRY = "kz"
    return kz


def token(page: Client, path: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page.get(path).content.decode())
    assert found is not None
    return found.group(1)


def test_the_counter_takes_a_service_whose_standard_lists_the_application_itself(
    make_user: Callable[..., User],
) -> None:
    operator = make_user("operator", centre_code="AST-01", country_code="kz")
    page = signed_in(operator)
    path = f"/counter/{NAME_CHANGE}/"
    html = page.get(path).content.decode()
    # the e-form is the application: no upload asks for it, and the IIN is asked once
    assert 'name="eform-document-application"' not in html
    assert 'name="eform-document-id_document"' in html
    assert 'name="eform-iin"' not in html

    response = page.post(path, {
        "submission": token(page, path, "submission"), "national_id": "850505400022",
        "applicant_name": "Aigerim Nurlanovna", "phone": "", "email": "",
        "eform-reason": "marriage", "eform-document-id_document": pdf("id.pdf"),
    })

    assert response.status_code == 302, text(response)
    application = Application.objects.get()
    assert (application.channel, application.applicant_national_id) == ("centre", "850505400022")
    assert application.form_data == {"iin": "850505400022", "reason": "marriage"}
    assert list(application.documents.values_list("code", flat=True)) == ["id_document"]


def test_a_citizen_applies_online_for_such_a_service(make_user: Callable[..., User]) -> None:
    citizen = make_user("citizen", national_id="850505400022")
    page = signed_in(citizen)
    path = f"/apply/{NAME_CHANGE}/"
    html = page.get(path).content.decode()
    assert 'name="eform-document-application"' not in html
    assert re.search(r'name="eform-iin" value="850505400022"', html)  # known: filled in

    response = page.post(path, {
        "token": token(page, path, "token"), "intent": "submit", "eform-iin": "850505400022",
        "eform-reason": "marriage", "eform-document-id_document": pdf("id.pdf"),
    })

    assert response.status_code == 302, text(response)
    application = Application.objects.get()
    assert (application.channel, application.applicant) == ("portal", citizen)
    assert application.form_data == {"iin": "850505400022", "reason": "marriage"}
