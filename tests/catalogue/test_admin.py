"""The register's admin screens: staff read, a supervisor edits only their agency's services."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.catalogue.models import Country, Service


def signed_in(user: User) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def change_url(service: Service) -> str:
    return f"/admin/catalogue/service/{service.pk}/change/"


def test_supervisor_edits_own_agency_service_only(
    mini_country: Country, make_user: Callable[..., User]
) -> None:
    supervisor = signed_in(make_user("supervisor", agency_code="MJ", country_code="zz"))
    own = Service.objects.get(code="01010001")  # MJ-ZAGS, a sub-unit of MJ
    other = Service.objects.get(code="02020001")  # MLSP
    own_page = supervisor.get(change_url(own))
    assert own_page.status_code == 200
    assert b'name="_save"' in own_page.content
    other_page = supervisor.get(change_url(other))
    assert other_page.status_code == 200  # readable...
    assert b'name="_save"' not in other_page.content  # ...but not editable
    posted = supervisor.post(change_url(other), {"workflow": "instant"})
    assert posted.status_code == 403
    other.refresh_from_db()
    assert other.workflow == "instant"  # as loaded; the post changed nothing
    assert supervisor.get("/admin/accounts/user/").status_code == 403


def test_supervisor_may_only_pick_providers_in_scope(
    mini_country: Country, make_user: Callable[..., User]
) -> None:
    supervisor = signed_in(make_user("supervisor", agency_code="MJ", country_code="zz"))
    page = supervisor.get(change_url(Service.objects.get(code="01010001"))).content.decode()
    provider_select = page.split('name="provider"')[1].split("</select>")[0]
    assert "zz/MJ-ZAGS" in provider_select
    assert "zz/MLSP" not in provider_select


@pytest.mark.parametrize("role", ["officer", "controller", "analyst", "operator"])
def test_other_staff_read_but_cannot_change(
    mini_country: Country, make_user: Callable[..., User], role: str
) -> None:
    scope = {"officer": {"agency_code": "MJ-ZAGS"}, "operator": {"centre_code": "AST-01"}}
    user = make_user(role, country_code="zz", **scope.get(role, {}))
    client = signed_in(user)
    service = Service.objects.get(code="01010001")
    assert client.get("/admin/catalogue/service/").status_code == 200
    assert client.post(change_url(service), {"workflow": "instant"}).status_code == 403


def test_citizens_do_not_enter_the_admin(
    mini_country: Country, make_user: Callable[..., User]
) -> None:
    response = signed_in(make_user("citizen")).get("/admin/catalogue/service/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_edits_everything(mini_country: Country, make_user: Callable[..., User]) -> None:
    client = signed_in(make_user("admin"))
    assert client.get("/admin/accounts/user/").status_code == 200
    page = client.get(change_url(Service.objects.get(code="02020001")))
    assert b'name="_save"' in page.content
