"""The quality pages in a real browser: a controller opens the ranking (its SVG chart with
the table as the alternative, the example methodology labelled), drills down to a unit's
indicators and trend and then to the late applications behind its timeliness; every page
passes axe."""

from __future__ import annotations

import os
from datetime import UTC, datetime
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
from onestop.quality import services
from tests.e2e.conftest import assert_accessible
from tests.quality import history
from tests.quality.test_rankings_api import methodology

pytestmark = pytest.mark.browser

PASSWORD = "a long test password"


@pytest.fixture
def assessed(country: Country) -> history.History:
    ops = [create_user(username=f"op-{i}", password=PASSWORD, role="operator",
                       centre_code="AST-01", country_code="zz", validate=False)
           for i in (1, 2)]
    built = history.build(country, *ops)
    m = methodology(country, "t-6", min_cases=6)
    for period in ("2026-Q2", "2026-Q3"):
        services.run_assessment(country=country, period=period, methodology=m,
                                as_of=history.as_of(), now=datetime(2026, 10, 15, tzinfo=UTC))
    return built


def sign_in(open_page: Any, user: User, path: str) -> Any:
    page = open_page(f"/accounts/login/?next={path}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Sign in").click()
    return page


def test_ranking_unit_and_cases(open_page: Any, assessed: history.History) -> None:
    controller = create_user(username="controller-1", password=PASSWORD, role="controller",
                             validate=False)
    page = sign_in(open_page, controller, "/quality/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Quality rankings")
    expect(page.get_by_text("EXAMPLE methodology, not law")).to_be_visible()
    expect(page.get_by_role("img", name="The score of each unit")).to_be_visible()
    table = page.get_by_role("table", name="Ranking of Agencies, 2026-Q3")
    rows = table.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("MJ-ZAGS")
    expect(rows.nth(2)).to_contain_text("not ranked: fewer than 6 cases")
    assert_accessible(page)

    with page.expect_navigation():
        rows.nth(1).get_by_role("link").click()
    trend = page.get_by_role("table", name="The unit in earlier periods")
    expect(trend.get_by_role("row", name="2026-Q2")).to_be_visible()
    expect(trend.get_by_role("row", name="2026-Q3")).to_contain_text("45.0")
    expect(page.get_by_role("img", name="The score over the periods")).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Timeliness").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Only late").click()
    z9 = assessed.apps["z9"].number
    expect(page.get_by_role("link", name=z9)).to_be_visible()
    expect(page.get_by_role("link", name=assessed.apps["z1"].number)).to_have_count(0)
    assert_accessible(page)
