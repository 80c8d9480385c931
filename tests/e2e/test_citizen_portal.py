"""The citizen's side in a real browser: sign in, open a service, fill its form with an
upload, save a draft, resume it, submit, see the number, open the cabinet, download the
receipt, check the public status. axe-core passes on every page, on a desktop and on a
375 px phone screen, and no page scrolls sideways on the phone.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from onestop.accounts.models import User
from onestop.accounts.services import create_user
from onestop.applications import services
from onestop.applications.models import Application, Draft
from onestop.catalogue.models import Country, Service
from onestop.notifications.models import Message
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.browser

BIRTH = "01010001"
PASSWORD = "a long test password"
PHONE = {"width": 375, "height": 740}
PDF = b"%PDF-1.4 a scanned identity card"
EFORM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["child_name", "child_birth_date", "relation"],
    "properties": {
        "child_name": {"type": "string", "maxLength": 200, "title": "Child's name"},
        "child_birth_date": {"type": "string", "format": "date", "title": "Date of birth"},
        "relation": {"type": "string", "enum": ["mother", "father"], "title": "Relation"},
    },
}
DOCUMENTS = [{"code": "id_card", "name": {"en": "ID card"}, "source": "applicant"}]


@pytest.fixture
def birth(country: Country) -> Service:
    """Birth registration, whichever version is in force, with an e-form and an upload."""
    service = Service.objects.get(country=country, code=BIRTH)
    service.versions.update(eform=EFORM, documents=DOCUMENTS, fee_amount=Decimal("1725"))
    return service


@pytest.fixture
def citizen(country: Country) -> User:
    return create_user(username="aigerim", password=PASSWORD, role="citizen",
                       national_id="900101300011", validate=False)


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "id-card.pdf"
    path.write_bytes(PDF)
    return path


def signed_in(open_page: Any, path: str, viewport: dict[str, int] | None = None) -> Any:
    """A page signed in as the citizen, on `path` (where the sign-in form sends them)."""
    page = open_page(f"/accounts/login/?next={path}", viewport=viewport)
    page.get_by_label("Username").fill("aigerim")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Sign in").click()
    return page


def fits_the_screen(page: Any) -> None:
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth,"
                           " client: document.documentElement.clientWidth})")
    assert widths["scroll"] <= widths["client"], (
        f"{page.url} scrolls sideways: content is {widths['scroll']}px wide")


def test_a_citizen_applies_online_and_follows_the_application(
    open_page: Any, birth: Service, citizen: User, scan: Path
) -> None:
    page = signed_in(open_page, f"/services/{BIRTH}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration of a child's birth")
    page.goto(f"/apply/{BIRTH}/")
    expect(page.get_by_text("This service costs 1725.00 KZT; it is paid when you submit."))\
        .to_be_visible()
    assert_accessible(page)

    # Fill part of the form with an upload, and save a draft.
    page.get_by_label("Child's name").fill("Aruzhan")
    page.get_by_label("Date of birth").fill("2026-11-20")
    page.get_by_label("ID card").set_input_files(str(scan))
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Your draft is saved")
    draft = Draft.objects.get()
    assert draft.form_data == {"child_name": "Aruzhan", "child_birth_date": "2026-11-20"}
    assert_accessible(page)

    # Resume it from the list of drafts, finish it and submit.
    page.goto("/drafts/")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Registration of a child's birth").click()
    expect(page.get_by_label("Child's name")).to_have_value("Aruzhan")
    expect(page.get_by_label("Date of birth")).to_have_value("2026-11-20")
    page.get_by_role("radio", name="mother").check()
    page.get_by_label("ID card").set_input_files(str(scan))
    with page.expect_navigation():
        page.get_by_role("button", name="Submit application").click()

    application = Application.objects.get()
    code = services.access_code(application)
    expect(page).to_have_url(re.compile(rf"/cabinet/{application.number}/$"))
    expect(page.get_by_role("status")).to_contain_text(
        f"Your application {application.number} is submitted")
    expect(page.get_by_role("status")).to_contain_text(code)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Application {application.number}")
    assert not Draft.objects.exists()
    with application.documents.get().file.open("rb") as stored:
        assert stored.read() == PDF
    assert_accessible(page)

    # The receipt.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download receipt (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename == f"receipt-{application.number}.pdf"

    # My applications.
    page.get_by_role("navigation").get_by_role("link", name="My applications").click()
    row = page.get_by_role("main").get_by_role("listitem").filter(has_text=application.number)
    expect(row).to_contain_text("Submitted")
    expect(row).to_contain_text("left")
    assert_accessible(page)

    # The public status, signed out.
    status = open_page(f"/status/{application.number}/?code={code}")
    expect(status.get_by_role("heading", level=1)).to_have_text(
        f"Status of application {application.number}")
    expect(status.get_by_role("main")).not_to_contain_text("900101300011")
    expect(status.get_by_role("main")).not_to_contain_text("Aruzhan")
    assert_accessible(status)


def test_the_status_check_by_number_and_code(open_page: Any, birth: Service,
                                             citizen: User) -> None:
    application = services.submit(
        service=birth, form_data={"child_name": "A", "child_birth_date": "2026-11-20",
                                  "relation": "father"},
        channel="portal", national_id="900101300011", applicant=citizen, submitted_by=citizen,
        documents=[services.UploadedDocument("id_card", "id.pdf", "application/pdf", PDF)],
    ).application
    page = open_page("/status/")
    assert_accessible(page)
    page.get_by_label("Application number").fill(application.number)
    page.get_by_label("Access code").fill("WRONG123")
    with page.expect_navigation():
        page.get_by_role("button", name="Check status").click()
    expect(page.get_by_role("alert")).to_have_text(
        "No application with this number and access code. Check both on the receipt and "
        "try again.")
    assert_accessible(page)

    page.get_by_label("Access code").fill(services.access_code(application))
    with page.expect_navigation():
        page.get_by_role("button", name="Check status").click()
    expect(page.get_by_role("main")).to_contain_text("Civil Registry Department")


def test_the_pages_fit_a_phone_screen(open_page: Any, birth: Service, citizen: User,
                                      scan: Path) -> None:
    page = signed_in(open_page, f"/apply/{BIRTH}/", viewport=PHONE)
    page.get_by_label("Child's name").fill("Aruzhan")
    page.get_by_label("Date of birth").fill("2026-11-20")
    page.get_by_role("radio", name="father").check()
    page.get_by_label("ID card").set_input_files(str(scan))
    fits_the_screen(page)
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Submit application").click()
    number = Application.objects.get().number
    code = services.access_code(Application.objects.get())
    for path in (f"/cabinet/{number}/", "/cabinet/", "/drafts/", "/status/",
                 f"/status/{number}/?code={code}"):
        page.goto(path)
        fits_the_screen(page)
        assert_accessible(page)


def test_a_citizen_gives_her_phone_in_my_account_on_a_phone(
    open_page: Any, citizen: User
) -> None:
    """From the menu to "My account" on a phone's screen: a number written as people write
    it is sent a code and kept, in international form, once the code is typed; one
    without the country code is refused next to the field, and the saved one stays."""
    page = signed_in(open_page, "/cabinet/", viewport=PHONE)
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.get_by_text("900101300011")).to_be_visible()
    assert_accessible(page)
    fits_the_screen(page)

    phone = page.get_by_label("Mobile phone")
    expect(phone).to_have_attribute("type", "tel")
    phone.fill("+7 701 555 01 11")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a code to each new address")
    expect(page.get_by_text("A code was sent to +77015550111 by SMS.")).to_be_visible()
    assert_accessible(page)
    fits_the_screen(page)
    sent = Message.objects.get(template="contact_code", recipient="+77015550111")
    page.get_by_label("Code", exact=True).fill(sent.context["code"])
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Your mobile phone is confirmed and saved.")
    expect(page.get_by_label("Mobile phone")).to_have_value("+77015550111")

    page.get_by_label("Mobile phone").fill("8 701 555 01 12")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Write the number in international form")
    expect(page.get_by_label("Mobile phone")).to_have_value("8 701 555 01 12")
    assert_accessible(page)
    citizen.refresh_from_db()
    assert citizen.phone == "+77015550111"
