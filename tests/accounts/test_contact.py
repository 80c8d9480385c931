"""My account: the user's own e-mail and mobile phone, on the page and through the API,
and the messages about a citizen's applications that go to them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.audit.models import AuditEntry
from onestop.audit.selectors import verify_chain
from onestop.catalogue.models import Country
from onestop.notifications.models import Message

pytestmark = pytest.mark.django_db


def test_the_page_asks_for_a_sign_in(client: Client) -> None:
    answer = client.get("/accounts/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/?next=/accounts/")


def test_a_citizen_sees_their_account_and_changes_their_phone(
    make_user: Callable[..., User], client: Client,
) -> None:
    citizen = make_user("citizen", national_id="900101300011")
    client.force_login(citizen)
    page = client.get("/accounts/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'href="/accounts/">My account</a>' in text  # the menu's link
    assert "900101300011" in text
    assert 'type="tel"' in text
    assert 'autocomplete="tel"' in text
    assert 'href="/accounts/password/"' in text

    saved = client.post("/accounts/", {"email": "", "phone": " +7 (701) 123-45-67 "},
                        follow=True)
    assert saved.status_code == 200
    assert "Your contact details are saved." in saved.content.decode()
    citizen.refresh_from_db()
    assert (citizen.email, citizen.phone) == ("", "+77011234567")
    assert 'value="+77011234567"' in saved.content.decode()
    # the change is in the audit chain, by the field's name and never its value
    entry = AuditEntry.objects.get(action="account.contact")
    assert (entry.actor_username, entry.subject_type, entry.subject_id, entry.data) == (
        citizen.username, "user", str(citizen.pk), {"changed": ["phone"]})
    assert verify_chain().ok

    again = client.post("/accounts/", {"email": "", "phone": "+77011234567"}, follow=True)
    assert "Nothing was changed." in again.content.decode()
    assert AuditEntry.objects.filter(action="account.contact").count() == 1


def test_bad_contact_details_are_named_and_nothing_is_changed(
    make_user: Callable[..., User], client: Client,
) -> None:
    citizen = make_user("citizen")
    citizen.email = "kept@example.org"
    citizen.save(update_fields=["email"])
    client.force_login(citizen)
    answer = client.post("/accounts/", {"email": "not an address", "phone": "8 701 123 45 67"})
    assert answer.status_code == 422
    text = answer.content.decode()
    assert "Enter an e-mail address such as name@example.org." in text
    assert ("Write the number in international form: + and the country code, then the "
            "number; 8 to 15 digits in all.") in text
    assert 'value="not an address"' in text  # what was typed stays in the form
    citizen.refresh_from_db()
    assert (citizen.email, citizen.phone) == ("kept@example.org", "")
    assert not AuditEntry.objects.filter(action="account.contact").exists()


def test_staff_see_their_agency_and_what_goes_to_them(officer: User) -> None:
    browser = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(officer)
    text = browser.get("/accounts/").content.decode()
    assert "Alerts for your work" in text
    assert "National ID" not in text
    assert "Civil Registry Department" in text  # the agency, by its name


def test_the_page_speaks_the_readers_language(make_user: Callable[..., User]) -> None:
    browser = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ru")
    browser.force_login(make_user("citizen"))
    text = browser.get("/accounts/").content.decode()
    assert "Мой аккаунт" in text
    assert "Мобильный телефон" in text
    refused = browser.post("/accounts/", {"email": "", "phone": "12345"}).content.decode()
    assert "Запишите номер в международном формате" in refused


def test_the_api_shows_and_changes_the_contact(
    make_user: Callable[..., User], api_client: Callable[[User | None], Client],
) -> None:
    citizen = make_user("citizen")
    me = api_client(citizen)
    assert me.get("/api/v1/auth/me").json()["phone"] == ""

    changed = me.patch("/api/v1/auth/me", {"phone": "+998 90 123 45 67"},
                       content_type="application/json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["email"], changed.json()["phone"]) == ("", "+998901234567")

    refused = me.patch("/api/v1/auth/me", {"email": "@", "phone": "+0 12"},
                       content_type="application/json")
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail.startswith("email: Enter an e-mail address")
    assert "phone: Write" in detail
    citizen.refresh_from_db()
    assert (citizen.email, citizen.phone) == ("", "+998901234567")

    # a field left out stays; "" removes it
    assert me.patch("/api/v1/auth/me", {"email": "me@example.org"},
                    content_type="application/json").json()["phone"] == "+998901234567"
    assert me.patch("/api/v1/auth/me", {"phone": ""},
                    content_type="application/json").json()["phone"] == ""
    assert api_client(None).patch("/api/v1/auth/me", {"phone": ""},
                                  content_type="application/json").status_code == 401


RECORD_REQUEST = {
    "service": "10220001", "country": "kz",
    "form": {"purpose": "employment", "format": "electronic"},
    "documents": [{"code": "id_document", "filename": "id.pdf",
                   "content_type": "application/pdf",
                   "content_base64": "JVBERi0xLjQgYSBzY2Fu"}],
}


def test_a_citizen_without_an_email_is_told_by_sms_at_the_accounts_phone(
    kz: Country, make_user: Callable[..., User], api_client: Callable[[User | None], Client],
) -> None:
    """An application that gives no address of its own is told at the account's address
    as it is when the message is queued: the phone by SMS when there is no e-mail."""
    citizen = make_user("citizen", national_id="900101300011")
    citizen.phone = "+77015550111"
    citizen.save(update_fields=["phone"])
    me = api_client(citizen)
    created = me.post("/api/v1/applications", RECORD_REQUEST, content_type="application/json")
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    told = Message.objects.filter(subject_id=number).order_by("pk")
    assert [(m.template, m.channel, m.recipient) for m in told] == [
        ("result_issued", "sms", "+77015550111"), ("rate_service", "sms", "+77015550111")]

    # with an e-mail on the account, that comes first
    me.patch("/api/v1/auth/me", {"email": "aigerim@example.org"},
             content_type="application/json")
    second = me.post("/api/v1/applications", RECORD_REQUEST, content_type="application/json")
    told = Message.objects.filter(subject_id=second.json()["number"])
    assert {(m.channel, m.recipient) for m in told} == {("email", "aigerim@example.org")}
