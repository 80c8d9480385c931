"""A centre manager's statistics and staffing-planner pages in a real browser: they
render the day's figures and the plan (its SVG chart with the table beside it), a bad
period is answered on the form, and both pages pass axe, also at a phone's width
(tables scroll inside their own region, not the page)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from onestop.accounts.models import User
from onestop.accounts.services import create_user
from onestop.catalogue.models import Country
from onestop.centres.models import Centre, Counter, ServiceGroup, Ticket, TicketState
from tests.e2e.conftest import (
    ALMATY,
    PASSWORD,
    PHONE,
    assert_accessible,
    playwright_expect,
    sign_in,
)

expect = playwright_expect()

pytestmark = pytest.mark.browser

# Wednesday 17 June 2026, noon in Almaty; the history is on the two Tuesdays before.
NOW = datetime(2026, 6, 17, 12, tzinfo=ALMATY)


@pytest.fixture
def manager(country: Country, monkeypatch: pytest.MonkeyPatch) -> User:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    centre = Centre.objects.get(country=country, code="AST-01")
    group = ServiceGroup.objects.get(country=country, code="A")
    counter = Counter.objects.get(centre=centre, number=2)
    sequence = 0
    for day in (NOW - timedelta(days=8), NOW - timedelta(days=1), NOW):
        for i in range(12):
            sequence += 1
            issued = day.replace(hour=10, minute=5 * i)
            Ticket.objects.create(
                centre=centre, group=group, day=issued.date(), sequence=sequence,
                number=f"A-{sequence:03d}", source="kiosk", state=TicketState.SERVED,
                issued_at=issued, place_at=issued, counter=counter,
                wait_seconds=60 * i, service_seconds=600,
                finished_at=issued + timedelta(seconds=60 * i + 600),
            )
    return create_user(username="ast-manager", password=PASSWORD, role="supervisor",
                       centre_code="AST-01", country_code="zz", validate=False)


def test_the_statistics_page(open_page: Any, manager: User) -> None:
    page = sign_in(open_page, manager, "/centres/AST-01/statistics/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Queue statistics")
    today = page.get_by_role("table", name="Tickets issued today")
    expect(today.get_by_role("row", name="All groups")).to_contain_text("12")
    assert_accessible(page)

    page.get_by_label("From", exact=True).fill("2026-06-18")
    page.get_by_label("To", exact=True).fill("2026-06-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The period must not end before it starts.")).to_be_visible()
    assert page.get_by_label("To", exact=True).get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    page.get_by_label("From", exact=True).fill("2026-06-01")
    page.get_by_label("To", exact=True).fill("2026-06-17")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    period = page.get_by_role("table", name="Tickets issued from 2026-06-01 to 2026-06-17")
    expect(period.get_by_role("row", name="All groups")).to_contain_text("36")


def test_the_planner_page(open_page: Any, manager: User) -> None:
    page = sign_in(open_page, manager, "/centres/AST-01/planner/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Staffing planner")
    expect(page.get_by_role("img", name="Recommended counters per hour")).to_be_visible()
    table = page.get_by_role("table", name="The plan per hour of the week")
    expect(table.get_by_role("row", name="Tuesday")).to_contain_text("10:00")
    assert_accessible(page)


def test_the_pages_fit_a_phone(open_page: Any, manager: User) -> None:
    for path in ("/centres/AST-01/statistics/", "/centres/AST-01/planner/"):
        page = sign_in(open_page, manager, path, viewport=PHONE)
        widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth,"
                               " client: document.documentElement.clientWidth})")
        assert widths["scroll"] <= widths["client"], f"{path} scrolls sideways on a phone"
        assert_accessible(page)
