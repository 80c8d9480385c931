"""The violations pages in a real browser: a supervisor filters the violations of their
agency, opens one and explains it; a controller sees the responsible person in the list.
Every page passes axe."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from onestop.accounts.models import User
from onestop.accounts.services import create_user
from onestop.applications.models import Application
from onestop.catalogue.models import Agency, Country, Service
from onestop.control import services
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.browser

PASSWORD = "a long test password"
MONDAY = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Almaty"))


def sign_in(open_page: Any, user: User, path: str) -> Any:
    page = open_page(f"/accounts/login/?next={path}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Sign in").click()
    return page


@pytest.fixture
def found(country: Country) -> dict[str, Any]:
    officer = create_user(username="officer-1", password=PASSWORD, role="officer",
                          agency_code="MJ-ZAGS", country_code="zz", validate=False)
    birth = Service.objects.get(country=country, code="01010001")
    agency = Agency.objects.get(country=country, code="MJ-ZAGS")
    numbers = []
    for i, days in enumerate((1, 30)):
        application = Application.objects.create(
            number=f"E-{i:06d}", country=country, service=birth,
            standard=birth.versions.order_by("-valid_from").first(), workflow=birth.workflow,
            state="in_review", channel="portal", applicant_national_id="900101300011",
            agency=agency, assigned_to=officer, submitted_at=MONDAY,
            deadline_at=MONDAY + timedelta(days=days))
        numbers.append(application.number)
    services.scan(country, MONDAY + timedelta(days=2))
    return {"officer": officer, "late": numbers[0]}


def test_supervisor_filters_and_explains(open_page: Any, found: dict[str, Any]) -> None:
    supervisor = create_user(username="supervisor-1", password=PASSWORD, role="supervisor",
                             agency_code="MJ", country_code="zz", validate=False)
    page = sign_in(open_page, supervisor, "/control/violations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Violations")
    table = page.get_by_role("table")
    expect(table).to_contain_text(found["late"])
    expect(table).not_to_contain_text(found["officer"].username)
    assert_accessible(page)

    page.get_by_label("Kind").select_option("deadline_missed")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(2)
    with page.expect_navigation():
        rows.nth(1).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("deadline missed")
    expect(page.get_by_role("main")).to_contain_text(found["officer"].username)
    assert_accessible(page)

    page.get_by_role("radio", name="Explain").check()
    page.get_by_label("Note (required to explain or to record a penalty)").fill(
        "The officer was ill.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Done.")
    expect(page.get_by_role("main")).to_contain_text("The officer was ill.")
    assert_accessible(page)


def test_controller_sees_the_person(open_page: Any, found: dict[str, Any]) -> None:
    controller = create_user(username="controller-1", password=PASSWORD, role="controller",
                             validate=False)
    page = sign_in(open_page, controller, "/control/violations/")
    expect(page.get_by_role("columnheader", name="Responsible person")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text(found["officer"].username)
    assert_accessible(page)
