"""Messages a person reads come in the page's language; the API keeps speaking English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.applications import services
from onestop.applications.models import Application
from onestop.catalogue.models import Service
from tests.applications.pages import BIRTH, pdf, signed_in, text

FORM = {"child_name": "Aruzhan", "child_birth_date": "2026-11-20", "relation": "mother"}


def _submit(citizen: User, service: Service) -> Application:
    return services.submit(service=service, form_data=FORM, channel="portal",
                           national_id=citizen.national_id, applicant=citizen,
                           submitted_by=citizen).application


def test_a_refused_document_is_explained_in_kazakh(
    birth: Service, citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    birth.versions.update(documents=[{"code": "id_card", "name": {"en": "ID card"},
                                      "source": "applicant"}])
    # the form lets a PDF through; the standard (here) takes images only
    monkeypatch.setattr(services, "ALLOWED_CONTENT_TYPES", {"image/png"})
    me = signed_in(citizen)
    page = me.get(f"/apply/{BIRTH}/", HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    form: dict[str, Any] = {"token": token, "intent": "submit",
                            **{f"eform-{k}": v for k, v in FORM.items()},
                            "eform-document-id_card": pdf("id.pdf")}
    response = me.post(f"/apply/{BIRTH}/", form, HTTP_ACCEPT_LANGUAGE="kk")
    assert response.status_code == 422
    assert "PDF, JPEG немесе PNG файлы болуы керек" in text(response)
    assert "must be a PDF, JPEG or PNG file" not in text(response)
    assert Application.objects.count() == 0


def test_a_refused_assignment_is_explained_to_the_officer_in_russian(
    birth: Service, citizen: User, officer: User, make_user: Callable[..., User]
) -> None:
    application = _submit(citizen, birth)
    colleague = make_user("officer", agency_code="MJ-ZAGS", country_code="zz")
    response = signed_in(officer).post(f"/office/{application.number}/assign/",
                                       {"assignee": str(colleague.pk)},
                                       HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 403
    assert ("сотрудник может взять только неназначенное заявление; переназначает "
            "руководитель") in text(response)
    application.refresh_from_db()
    assert application.assigned_to is None


def test_the_api_refuses_the_same_in_english_whatever_the_language_asked(
    birth: Service, citizen: User, officer: User, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    application = _submit(citizen, birth)
    colleague = make_user("officer", agency_code="MJ-ZAGS", country_code="zz")
    response = api_client(officer).post(
        f"/api/v1/applications/{application.number}/assign",
        {"assignee": colleague.username}, content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="kk",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "an officer may only take an unassigned application; a supervisor reassigns")
    assert response["Content-Language"] == "en"


def test_an_action_the_workflow_refuses_is_explained_in_the_officers_language(
    birth: Service, citizen: User, officer: User,
    api_client: Callable[[User | None], Client],
) -> None:
    application = _submit(citizen, birth)
    page = signed_in(officer).post(f"/office/{application.number}/act/",
                                   {"action": "approve"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert page.status_code == 403
    assert ("действие «approve» нельзя выполнить, пока заявление в состоянии "
            "«submitted»") in text(page)
    # a citizen refused through the API: English whatever the language asked
    answer = api_client(citizen).post(
        f"/api/v1/applications/{application.number}/actions", {"action": "accept"},
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="kk")
    assert answer.status_code == 403
    assert answer.json()["detail"] == (
        "a citizen may not take accept while the application is submitted "
        "(it is for: officer)")
    application.refresh_from_db()
    assert application.state == "submitted"
