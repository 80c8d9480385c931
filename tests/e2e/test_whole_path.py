"""The whole path in a real browser: a citizen applies online with an upload, an officer
asks for a missing document (the clock stops), the citizen answers in the cabinet (the
clock runs again), the officer approves with the result and issues it, and the citizen
downloads the result and reads the history. The deadline shown is the calendar's with the
stopped time left out. Then every staff page, at desktop and phone width, through axe.

The server's clock is the test's: frozen at Monday 17 November 2025, 10:00 in Almaty (the
mini pack's 2024 standard: two working days, the ID card brought by the applicant) and
moved on by hand between the steps, so the working time the clock stood still is known.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from onestop.accounts.models import User
from onestop.accounts.services import create_user
from onestop.applications import services
from onestop.applications.models import Application
from onestop.catalogue.models import Country
from tests.e2e.conftest import (
    ALMATY,
    PASSWORD,
    PHONE,
    FrozenTime,
    assert_accessible,
    fits_a_phone,
    freeze_time,
    playwright_expect,
    sign_in,
)

expect = playwright_expect()

pytestmark = pytest.mark.browser

MONDAY = datetime(2025, 11, 17, 10, tzinfo=ALMATY)
BIRTH = "01010001"
SCAN = b"%PDF-1.4 the applicant's ID card"
CERTIFICATE = b"%PDF-1.4 the birth certificate"


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch, country: Country) -> FrozenTime:
    return freeze_time(monkeypatch, MONDAY)


def make(role: str, username: str, **scope: str) -> User:
    return create_user(username=username, password=PASSWORD, role=role, validate=False,
                       **scope)


def pdf(name: str, content: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": content}


def submit_form(page: Any, form: Any, button: str) -> None:
    with page.expect_navigation():
        form.get_by_role("button", name=button).click()


def fact(page: Any, name: str) -> Any:
    """The value beside a label in the cabinet's list of facts."""
    return page.locator(f"dt:text-is('{name}') + dd")


def test_the_whole_path_from_application_to_result(
    open_page: Any, now: FrozenTime, country: Country,
) -> None:
    citizen = make("citizen", "aigerim", national_id="900101300011")
    officer = make("officer", "officer", agency_code="MJ-ZAGS", country_code="zz")

    # Mon 10:00 - the citizen applies online, with a scan of her ID card
    home = sign_in(open_page, citizen, f"/apply/{BIRTH}/")
    expect(home.get_by_role("heading", level=1)).to_have_text("Registration of a child's birth")
    home.get_by_label("Child's name").fill("Aruzhan")
    home.get_by_label("IIN").fill("250101300011")
    home.get_by_label("ID card").set_input_files(pdf("id-card.pdf", SCAN))
    submit_form(home, home.locator("form.application-form"), "Submit application")
    expect(home).to_have_url(re.compile(r"/cabinet/ZZ-[0-9]{6}-[0-9A-Z]+/$"))
    number = home.url.rstrip("/").rsplit("/", 1)[1]
    application = Application.objects.get(number=number)
    assert application.documents.get().original_name == "id-card.pdf"

    # Mon 11:00 - the officer finds it in the inbox and accepts it
    now.set(MONDAY + timedelta(hours=1))
    office = sign_in(open_page, officer, "/office/")
    inbox = office.get_by_role("region", name="Applications")
    expect(inbox.get_by_role("row", name=re.compile(number))).to_contain_text(
        "2 working days 7 hours left")
    with office.expect_navigation():
        inbox.get_by_role("link", name=number).click()
    submit_form(office, office.locator("#action-accept"), "Accept for review")
    expect(office.get_by_role("status")).to_contain_text("Done: Accept for review.")

    # Mon 12:00 - the ID card scan is unreadable: the officer asks for it again
    now.set(MONDAY + timedelta(hours=2))
    office.reload()
    request = office.locator("#action-request_documents")
    request.get_by_role("checkbox", name="ID card").check()
    request.get_by_label("Comment").fill("The scan of the ID card is unreadable")
    submit_form(office, request, "Request documents")
    expect(office.locator("#clock")).to_have_text(
        "Stopped since 2025-11-17 12:00: waiting for the applicant")
    expect(office.locator("#time-left")).to_have_text(
        "Clock stopped (waiting for the applicant), 2 working days 6 hours left")

    # Tue 15:00 - the citizen reads what is missing and answers in her cabinet
    now.set(datetime(2025, 11, 18, 15, tzinfo=ALMATY))
    home.reload()
    waiting = home.get_by_role("region", name="The agency is waiting for you")
    expect(waiting).to_contain_text("The scan of the ID card is unreadable")
    expect(waiting).to_contain_text("The deadline clock is stopped until you answer.")
    answer = home.get_by_role("region", name="Provide the documents")
    answer.get_by_label("ID card").set_input_files(pdf("id-card-clear.pdf", SCAN))
    submit_form(home, answer, "Provide the documents")
    expect(home.get_by_role("status")).to_contain_text("Done: Provide the documents.")

    # Tue 16:00 - the clock runs again; the officer approves with the certificate, issues
    now.set(datetime(2025, 11, 18, 16, tzinfo=ALMATY))
    office.reload()
    expect(office.locator("#clock")).to_have_text("Running")
    approve = office.locator("#action-approve")
    approve.get_by_label("Result document (PDF, JPEG or PNG)").set_input_files(
        pdf("certificate.pdf", CERTIFICATE))
    submit_form(office, approve, "Approve")
    submit_form(office, office.locator("#action-issue"), "Issue the result")
    expect(office.get_by_role("cell", name="Result issued", exact=True)).to_be_visible()

    # The deadline: the calendar's, moved by the working time the clock stood still
    # (Mon 12:00-18:00 and Tue 09:00-15:00, 12 working hours): Wed 18:00 becomes Fri 12:00.
    application.refresh_from_db()
    clock = services.clock_of(application)
    expected = clock.deadline_at(now()).astimezone(ALMATY)
    assert expected != clock.base_deadline()
    assert clock.stopped_time(now()) == timedelta(hours=12)
    shown = f"{expected:%Y-%m-%d %H:%M}"
    assert shown == "2025-11-21 12:00"
    expect(office.locator("#deadline")).to_have_text(shown)

    # The citizen downloads the result and reads the history
    home.reload()
    expect(fact(home, "State")).to_have_text("Result issued")
    expect(fact(home, "Deadline")).to_have_text(shown)
    expect(fact(home, "Time left")).to_have_text(re.compile("completed on time", re.I))
    documents = home.get_by_role("region", name="Documents")
    with home.expect_download() as download:
        documents.get_by_role("link", name="Result: Birth certificate").click()
    with open(download.value.path(), "rb") as result:
        assert result.read() == CERTIFICATE
    history = home.get_by_role("heading", name="History").locator(
        "xpath=following-sibling::*[1]").inner_text()
    steps = ["Application submitted", "Accept for review", "Request documents",
             "clock stopped", "Provide the documents", "clock runs again", "Approve",
             "Issue the result"]
    found = [history.find(step) for step in steps]
    assert -1 not in found, f"the history lacks a step: {history}"
    assert found == sorted(found), f"the history is out of order: {history}"
    assert_accessible(home)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_every_staff_page_is_accessible_and_fits_a_phone(
    open_page: Any, now: FrozenTime, country: Country, viewport: dict[str, int] | None,
) -> None:
    citizen = make("citizen", "aigerim", national_id="900101300011")
    officer = make("officer", "officer", agency_code="MJ-ZAGS", country_code="zz")
    supervisor = make("supervisor", "head", agency_code="MJ", country_code="zz")
    operator = make("operator", "operator", centre_code="AST-01", country_code="zz")
    service = country.services.get(code=BIRTH)
    application = services.submit(
        service=service, form_data={"child_name": "Aruzhan", "iin": "250101300011"},
        channel="portal", national_id="900101300011", applicant=citizen,
        submitted_by=citizen, documents=[services.UploadedDocument(
            "id_card", "id.pdf", "application/pdf", SCAN)],
    ).application
    services.act(application=application, user=officer, action="accept")

    def check(page: Any) -> None:
        assert_accessible(page)
        if viewport:
            fits_a_phone(page)

    office = sign_in(open_page, officer, "/office/", viewport=viewport)
    check(office)
    office.goto("/office/?service=00000000")  # a filter in error
    check(office)
    office.goto(f"/office/{application.number}/")
    check(office)
    refuse = office.locator("#action-refuse")
    refuse.get_by_label("Written reason").fill("The documents do not match")
    submit_form(office, refuse, "Refuse")  # no ground: the form comes back with its errors
    expect(office.get_by_role("alert").first).to_contain_text("“Refuse” was not done")
    check(office)

    head = sign_in(open_page, supervisor, f"/office/{application.number}/", viewport=viewport)
    expect(head.get_by_role("heading", name="Assignment")).to_be_visible()
    check(head)

    counter = sign_in(open_page, operator, "/counter/", viewport=viewport)
    check(counter)
    counter.goto(f"/counter/{BIRTH}/")
    check(counter)
    form = counter.locator("main form")
    form.get_by_label("National ID number (IIN)").fill("12")
    submit_form(counter, form, "Submit the application")  # every problem at once
    expect(counter.get_by_role("alert").first).to_contain_text(
        "The application was not submitted")
    check(counter)
    form = counter.locator("main form")
    form.get_by_label("National ID number (IIN)").fill("900101300011")
    form.get_by_label("Full name").fill("Aigerim Nurlanovna")
    form.get_by_label("Child's name").fill("Aruzhan")
    form.get_by_label("IIN (required)", exact=True).fill("250101300011")
    form.get_by_label("ID card").set_input_files(pdf("id.pdf", SCAN))
    submit_form(counter, form, "Submit the application")
    expect(counter.get_by_role("heading", level=1)).to_have_text("Application submitted")
    check(counter)
    counter.goto("/counter/find/?number=ZZ-000000-000000")
    expect(counter.get_by_role("alert")).to_contain_text("No application has this number.")
    check(counter)
    counter.goto(f"/counter/applications/{application.number}/")
    check(counter)
