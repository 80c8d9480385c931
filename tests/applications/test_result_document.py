"""The result of an application the system issued itself (an instant service): an
electronic document onestop draws up when it is asked for, in the cabinet and over the
API, to the applicant and to no one else."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.applications import receipts, services
from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.core.text import localize

pytestmark = pytest.mark.django_db

SCAN = {"code": "id_document", "filename": "id.pdf", "content_type": "application/pdf",
        "content_base64": base64.b64encode(b"%PDF-1.4 a scan").decode()}
RECORD = {"service": "10220001", "country": "kz",
          "form": {"purpose": "employment", "format": "electronic"}, "documents": [SCAN]}
NAME_CHANGE = {"service": "01020002", "country": "kz", "form": {"reason": "marriage"},
               "documents": [SCAN]}


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> User:
    user = make_user("citizen", national_id="900101300011")
    user.first_name, user.last_name = "Aigerim", "Nurlanova"
    user.save(update_fields=["first_name", "last_name"])
    return user


def apply(api: Client, request: dict[str, object]) -> Application:
    answer = api.post("/api/v1/applications", request, content_type="application/json")
    assert answer.status_code == 201, answer.content
    return Application.objects.get(number=answer.json()["number"])


def test_an_instant_result_is_a_document_the_citizen_downloads(
    kz: Country, citizen: User, api_client: Callable[[User | None], Client],
) -> None:
    application = apply(api_client(citizen), RECORD)
    assert application.state == "issued"
    browser = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(citizen)
    result = localize(application.standard.result, "en", kz.languages)

    page = browser.get(f"/cabinet/{application.number}/").content.decode()
    assert f'href="/cabinet/{application.number}/result.pdf"' in page
    assert f"Result: {result}" in page

    pdf = browser.get(f"/cabinet/{application.number}/result.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="result-{application.number}.pdf"'
    assert pdf.content.startswith(b"%PDF")
    code = services.access_code(application)
    url = f"http://localhost/status/{application.number}/?code={code}"
    assert url.encode() in pdf.content  # the QR code's link
    assert browser.get(url).status_code == 200  # which opens the status page

    document = receipts.result_for(application, status_url=url, language="ru")
    assert document.result == localize(application.standard.result, "ru", kz.languages)
    assert (document.applicant, document.national_id) == ("Aigerim Nurlanova", "900101300011")
    assert document.agency == localize(application.agency.name, "ru", kz.languages)
    assert document.issued_at.endswith(f"({kz.time_zone})")


def test_only_the_applicant_gets_it_and_only_for_a_result_the_system_issued(
    kz: Country, citizen: User, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    mine = api_client(citizen)
    instant = apply(mine, RECORD)
    pending = apply(mine, NAME_CHANGE)
    assert pending.state != "issued"

    assert mine.get(f"/api/v1/applications/{instant.number}/result.pdf?lang=kk"
                    ).status_code == 200
    refused = mine.get(f"/api/v1/applications/{pending.number}/result.pdf")
    assert refused.status_code == 404
    assert "no result drawn up by onestop" in refused.json()["detail"]
    assert mine.get(f"/api/v1/applications/{instant.number}/result.pdf?lang=xx"
                    ).status_code == 422

    other = make_user("citizen", national_id="850505400022")
    assert api_client(other).get(f"/api/v1/applications/{instant.number}/result.pdf"
                                 ).status_code == 404
    assert api_client(None).get(f"/api/v1/applications/{instant.number}/result.pdf"
                                ).status_code == 401
    browser = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    assert browser.get(f"/cabinet/{instant.number}/result.pdf").status_code == 302  # sign in
    browser.force_login(other)
    assert browser.get(f"/cabinet/{instant.number}/result.pdf").status_code == 404
    browser.force_login(citizen)
    assert browser.get(f"/cabinet/{pending.number}/result.pdf").status_code == 404
    assert "result.pdf" not in browser.get(f"/cabinet/{pending.number}/").content.decode()


def test_the_counter_prints_an_instant_result_for_the_citizen(
    kz: Country, citizen: User, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    operator = make_user("operator", centre_code="AST-01", country_code="kz")
    at_counter = api_client(operator)
    instant = apply(at_counter, {**RECORD, "national_id": "900101300011"})
    pending = apply(at_counter, {**NAME_CHANGE, "national_id": "900101300011"})
    counter = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    counter.force_login(operator)

    page = counter.get(f"/counter/submitted/{instant.number}/").content.decode()
    assert f'href="/counter/result/{instant.number}.pdf"' in page
    # and on the application's page, when the citizen comes back for a printed copy
    page = counter.get(f"/counter/applications/{instant.number}/").content.decode()
    assert f'href="/counter/result/{instant.number}.pdf"' in page
    printed = counter.get(f"/counter/result/{instant.number}.pdf")
    assert printed.status_code == 200
    assert printed["Content-Disposition"].startswith("inline;")
    assert printed.content.startswith(b"%PDF")

    assert "/counter/result/" not in counter.get(
        f"/counter/submitted/{pending.number}/").content.decode()
    assert "/counter/result/" not in counter.get(
        f"/counter/applications/{pending.number}/").content.decode()
    nothing = counter.get(f"/counter/result/{pending.number}.pdf")
    assert nothing.status_code == 404
    assert "This application has no result to print here" in nothing.content.decode()
    assert counter.get("/counter/result/KZ-000000-NOSUCH00.pdf").status_code == 404

    browser = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(citizen)  # a citizen's own copy is in the cabinet, not here
    assert browser.get(f"/counter/result/{instant.number}.pdf").status_code == 403
