"""The pages people see when something is missing, refused or broken: onestop's own,
in the reader's language, with a way on, never Django's bare English ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import permission_denied, server_error

from onestop.accounts.models import User
from onestop.catalogue.models import Country

pytestmark = pytest.mark.django_db


def reader(language: str) -> Client:
    return Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE=language)


@pytest.mark.parametrize(("language", "words"), [
    ("en", "There is no page at this address."),
    ("ru", "По этому адресу страницы нет."),
    ("kk", "Бұл мекенжайда бет жоқ."),
    ("uz", "Bu manzilda sahifa yoʻq."),
])
def test_an_unknown_address_gets_a_page_with_a_way_on(
    mini_country: Country, language: str, words: str
) -> None:
    response = reader(language).get("/no/such/page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert words in html
    assert f'<html lang="{language}">' in html
    assert 'href="/status/"' in html  # the status check, and the site's own header
    assert 'class="brand"' in html
    assert "The requested resource was not found on this server." not in html


def test_another_citizens_application_is_not_found_on_the_same_page(
    mini_country: Country, make_user: Callable[..., User]
) -> None:
    citizen = make_user("citizen", national_id="900101300011")
    page = reader("en")
    page.force_login(citizen)

    response = page.get("/cabinet/ZZ-250101-NOSUCHNO/")

    assert response.status_code == 404
    assert "There is no page at this address." in response.content.decode()
    assert "no such application" not in response.content.decode()  # the code's own words


def test_a_refusal_offers_to_sign_in(mini_country: Country) -> None:
    request = RequestFactory(HTTP_HOST="localhost").get("/somewhere/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    with translation.override("ru"):
        response = permission_denied(request, PermissionDenied())

    assert response.status_code == 403
    html = response.content.decode()
    assert "Вашей учётной записи эта страница недоступна." in html
    assert 'href="/accounts/login/?next=/somewhere/"' in html


def test_a_form_sent_without_its_token_is_explained(mini_country: Country) -> None:
    browser = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="kk",
                     enforce_csrf_checks=True)

    response = browser.post("/accounts/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "Форманың мерзімі өтіп кетті" in html
    assert "CSRF verification failed" not in html


def test_a_request_for_another_host_is_a_bad_request_on_onestops_page(
    mini_country: Country,
) -> None:
    response = Client(HTTP_HOST="elsewhere.example", HTTP_ACCEPT_LANGUAGE="en").get("/")

    assert response.status_code == 400
    html = response.content.decode()
    assert "The request could not be understood. Go back and try again." in html
    assert 'class="brand"' in html


def test_a_server_error_page_needs_nothing_but_the_template(
    django_assert_num_queries: Callable[..., object],
) -> None:
    """Rendered when anything may be broken, the database included: no query, no session."""
    request = RequestFactory().get("/")
    with translation.override("uz"), django_assert_num_queries(0):  # type: ignore[attr-defined]
        response = server_error(request)

    assert response.status_code == 500
    html = response.content.decode()
    assert "Bizning tomonda xatolik yuz berdi" in html
    assert "avval saqlangan maʼlumotlar yoʻqolmagan" in html
