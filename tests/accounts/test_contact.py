"""My account: the user's own e-mail and mobile phone, each new one confirmed by the code
sent to it, on the page and through the API, and the messages about a citizen's
applications that go to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from onestop.accounts import services
from onestop.accounts.models import User
from onestop.audit.models import AuditEntry
from onestop.audit.selectors import verify_chain
from onestop.catalogue.models import Country
from onestop.notifications.models import Message
from onestop.notifications.rendering import render

pytestmark = pytest.mark.django_db


def test_the_page_asks_for_a_sign_in(client: Client) -> None:
    answer = client.get("/accounts/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/?next=/accounts/")


def sent_code(address: str) -> str:
    """The code in the newest message queued to `address`."""
    message = Message.objects.filter(template="contact_code", recipient=address).latest("pk")
    return str(message.context["code"])


def test_a_citizen_changes_their_phone_with_the_code_sent_to_it(
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
    assert "Waiting for a code" not in text

    asked = client.post("/accounts/", {"intent": "contact", "email": "",
                                       "phone": " +7 (701) 123-45-67 "}, follow=True)
    text = asked.content.decode()
    assert "We sent a code to each new address." in text
    assert "A code was sent to +77011234567 by SMS." in text
    assert 'autocomplete="one-time-code"' in text
    citizen.refresh_from_db()
    assert citizen.phone == ""  # not before the code
    message = Message.objects.get(template="contact_code")
    assert (message.channel, message.recipient, message.subject_type) == (
        "sms", "+77011234567", "user")
    code = sent_code("+77011234567")
    assert len(code) == 6
    assert code.isdigit()

    wrong = client.post("/accounts/", {"intent": "confirm",
                                       "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422
    assert "This code is wrong." in wrong.content.decode()
    citizen.refresh_from_db()
    assert citizen.phone == ""

    right = client.post("/accounts/", {"intent": "confirm", "code": code}, follow=True)
    assert "Your mobile phone is confirmed and saved." in right.content.decode()
    assert "Waiting for a code" not in right.content.decode()
    citizen.refresh_from_db()
    assert citizen.phone == "+77011234567"
    assert 'value="+77011234567"' in right.content.decode()
    # the change is in the audit chain, by the field's name, never its value or the code
    entry = AuditEntry.objects.get(action="account.contact")
    assert (entry.actor_username, entry.subject_type, entry.subject_id, entry.data) == (
        citizen.username, "user", str(citizen.pk), {"changed": ["phone"], "confirmed": True})
    assert verify_chain().ok
    # a used code does not work twice
    again = client.post("/accounts/", {"intent": "confirm", "code": code})
    assert "No code is waiting" in again.content.decode()

    same = client.post("/accounts/", {"intent": "contact", "email": "",
                                      "phone": "+77011234567"}, follow=True)
    assert "Nothing was changed." in same.content.decode()
    assert Message.objects.filter(template="contact_code").count() == 1

    # removing an address needs no code
    removed = client.post("/accounts/", {"intent": "contact", "email": "", "phone": ""},
                          follow=True)
    assert "Your contact details are saved." in removed.content.decode()
    citizen.refresh_from_db()
    assert citizen.phone == ""
    assert AuditEntry.objects.filter(action="account.contact").latest("sequence").data == {
        "changed": ["phone"], "confirmed": False}


def test_codes_expire_wear_out_and_are_not_sent_without_end(
    make_user: Callable[..., User],
) -> None:
    citizen = make_user("citizen")
    start = timezone.now()
    services.request_contact_change(citizen, email="a@example.org", now=start)
    code = sent_code("a@example.org")
    late = start + dt.timedelta(minutes=services.CODE_MINUTES, seconds=1)
    with pytest.raises(services.ContactCodeWrong, match="No code is waiting, or it has expired"):
        services.confirm_contact(citizen, code, now=late)

    # a new code voids the one before; five wrong codes void the new one too
    services.request_contact_change(citizen, email="a@example.org", now=start)
    first, second = (m.context["code"] for m in Message.objects.filter(
        template="contact_code").order_by("pk"))
    if first != second:
        with pytest.raises(services.ContactCodeWrong):
            services.confirm_contact(citizen, first, now=start)
    wrong = "000000" if second != "000000" else "111111"
    for _ in range(services.CODE_ATTEMPTS - 2 if first != second else services.CODE_ATTEMPTS - 1):
        with pytest.raises(services.ContactCodeWrong, match="This code is wrong"):
            services.confirm_contact(citizen, wrong, now=start)
    with pytest.raises(services.ContactCodeWrong, match="Too many wrong codes"):
        services.confirm_contact(citizen, wrong, now=start)
    with pytest.raises(services.ContactCodeWrong, match="No code is waiting"):
        services.confirm_contact(citizen, second, now=start)
    citizen.refresh_from_db()
    assert citizen.email == ""

    # at most CODES_PER_HOUR codes an hour: each is an SMS the country pays for
    for n in range(services.CODES_PER_HOUR - 2):
        services.request_contact_change(citizen, phone=f"+7701555000{n}", now=start)
    with pytest.raises(services.ContactThrottled):
        services.request_contact_change(citizen, phone="+77015559999", now=start)
    assert Message.objects.filter(template="contact_code").count() == services.CODES_PER_HOUR
    services.request_contact_change(citizen, phone="+77015559999",
                                    now=start + dt.timedelta(hours=1, seconds=1))


def test_bad_contact_details_are_named_and_nothing_is_changed(
    make_user: Callable[..., User], client: Client,
) -> None:
    citizen = make_user("citizen")
    citizen.email = "kept@example.org"
    citizen.save(update_fields=["email"])
    client.force_login(citizen)
    answer = client.post("/accounts/", {"intent": "contact", "email": "not an address",
                                        "phone": "8 701 123 45 67"})
    assert answer.status_code == 422
    text = answer.content.decode()
    assert "Enter an e-mail address such as name@example.org." in text
    assert ("Write the number in international form: + and the country code, then the "
            "number; 8 to 15 digits in all.") in text
    assert 'value="not an address"' in text  # what was typed stays in the form
    citizen.refresh_from_db()
    assert (citizen.email, citizen.phone) == ("kept@example.org", "")
    assert not AuditEntry.objects.filter(action="account.contact").exists()
    assert not Message.objects.exists()


def test_staff_see_their_agency_and_what_goes_to_them(officer: User) -> None:
    browser = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(officer)
    text = browser.get("/accounts/").content.decode()
    assert "Alerts for your work" in text
    assert "National ID" not in text
    assert "Civil Registry Department" in text  # the agency, by its name


def test_the_page_and_the_code_speak_the_readers_language(
    make_user: Callable[..., User],
) -> None:
    browser = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ru")
    browser.force_login(make_user("citizen"))
    text = browser.get("/accounts/").content.decode()
    assert "Мой аккаунт" in text
    assert "Мобильный телефон" in text
    refused = browser.post("/accounts/", {"intent": "contact", "email": "",
                                          "phone": "12345"}).content.decode()
    assert "Запишите номер в международном формате" in refused
    browser.post("/accounts/", {"intent": "contact", "email": "", "phone": "+77011234567"})
    message = Message.objects.get(template="contact_code")
    assert message.language == "ru"
    rendered = render(template="contact_code", language="ru", context=message.context)
    assert rendered.subject == f"Код onestop: {message.context['code']}"


def test_the_api_shows_and_changes_the_contact(
    make_user: Callable[..., User], api_client: Callable[[User | None], Client],
) -> None:
    citizen = make_user("citizen")
    me = api_client(citizen)
    assert me.get("/api/v1/auth/me").json()["phone"] == ""

    asked = me.patch("/api/v1/auth/me", {"phone": "+998 90 123 45 67", "language": "uz"},
                     content_type="application/json")
    assert asked.status_code == 200, asked.content
    body = asked.json()
    assert body["phone"] == ""
    assert [(p["field"], p["address"]) for p in body["pending"]] == [("phone", "+998901234567")]
    assert Message.objects.get(template="contact_code").language == "uz"

    wrong = me.post("/api/v1/auth/me/confirm", {"code": "12"}, content_type="application/json")
    assert wrong.status_code == 422
    assert "This code is wrong" in wrong.json()["detail"]
    confirmed = me.post("/api/v1/auth/me/confirm", {"code": sent_code("+998901234567")},
                        content_type="application/json")
    assert confirmed.status_code == 200, confirmed.content
    assert (confirmed.json()["phone"], confirmed.json()["pending"]) == ("+998901234567", [])

    refused = me.patch("/api/v1/auth/me", {"email": "@", "phone": "+0 12"},
                       content_type="application/json")
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail.startswith("email: Enter an e-mail address")
    assert "phone: Write" in detail
    citizen.refresh_from_db()
    assert (citizen.email, citizen.phone) == ("", "+998901234567")

    # a field left out stays; "" removes it at once
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
    citizen.email = "aigerim@example.org"
    citizen.save(update_fields=["email"])
    second = me.post("/api/v1/applications", RECORD_REQUEST, content_type="application/json")
    told = Message.objects.filter(subject_id=second.json()["number"])
    assert {(m.channel, m.recipient) for m in told} == {("email", "aigerim@example.org")}


def test_an_administrator_gives_a_staff_members_contact_when_creating_them(
    mini_country: Country,
) -> None:
    """`onestop users create --email --phone`: checked like the page's, not confirmed by
    a code (the administrator vouches for a work address)."""
    out = StringIO()
    call_command("users", "create", "--role", "controller", "--username", "dana",
                 "--password", "a long password 2026", "--email", " dana@gov.example ",
                 "--phone", "+7 701 555 01 99", stdout=out)
    dana = User.objects.get(username="dana")
    assert (dana.email, dana.phone) == ("dana@gov.example", "+77015550199")
    assert not Message.objects.exists()
    with pytest.raises(CommandError, match="phone: Write the number in international form"):
        call_command("users", "create", "--role", "analyst", "--username", "erlan",
                     "--password", "a long password 2026", "--phone", "87015550199")
    assert not User.objects.filter(username="erlan").exists()
