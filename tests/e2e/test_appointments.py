"""Appointments in a real browser: a citizen books a slot at a centre step by step, sees
it from the cabinet, and cancels it. axe-core passes on every page."""

from __future__ import annotations

import os
import re
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
from onestop.catalogue.models import Country
from onestop.centres.models import Appointment, AppointmentState
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.browser

PASSWORD = "a long test password"


@pytest.fixture
def citizen(country: Country) -> User:
    return create_user(username="aigerim", password=PASSWORD, role="citizen",
                       national_id="900101300011", validate=False)


def test_a_citizen_books_sees_and_cancels_an_appointment(open_page: Any,
                                                         citizen: User) -> None:
    page = open_page("/accounts/login/?next=/appointments/new/")
    page.get_by_label("Username").fill("aigerim")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    assert_accessible(page)

    # Step by step: region, centre, what for and day, then a free time.
    page.get_by_label("Region").select_option(index=1)
    with page.expect_navigation():
        page.get_by_role("button", name="Show centres").click()
    page.get_by_label("Centre").select_option(label="Astana Centre No. 1 (8 Mangilik Yel)")
    with page.expect_navigation():
        page.get_by_role("button", name="Next").click()
    page.get_by_label("What for").select_option(label="A: Documents")
    day = page.get_by_label("Day")
    day.select_option(index=day.locator("option").count() - 1)  # the last day: all ahead
    with page.expect_navigation():
        page.get_by_role("button", name="Show free times").click()
    assert_accessible(page)
    first = page.get_by_role("radio").first
    time_text = first.evaluate("el => el.labels[0].textContent").split("–")[0].strip()
    first.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Book this time").click()

    appointment = Appointment.objects.get(citizen=citizen)
    expect(page).to_have_url(re.compile(rf"/appointments/{appointment.code}/$"))
    expect(page.get_by_role("status")).to_contain_text(appointment.code)
    expect(page.get_by_role("main")).to_contain_text(time_text)
    assert_accessible(page)

    # From the cabinet to my appointments, and cancel.
    page.goto("/cabinet/")
    with page.expect_navigation():
        page.get_by_role("link", name="My appointments at centres").click()
    card = page.get_by_role("main").get_by_role("listitem").filter(has_text=appointment.code)
    expect(card).to_contain_text("Astana Centre No. 1")
    assert_accessible(page)
    with page.expect_navigation():
        card.get_by_role("button", name=re.compile("^Cancel the appointment")).click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Appointment {appointment.code} is cancelled.")
    expect(page.get_by_role("main")).to_contain_text("You have no upcoming appointments.")
    assert_accessible(page)
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CANCELLED
