"""The bottleneck pages in a real browser: a controller chooses a service and a period,
sees the slow stage in the chart and its table, opens the agency's optimisation report
and its PDF link; every page passes axe."""

from __future__ import annotations

import os
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from onestop.accounts.services import create_user
from onestop.catalogue.models import Country
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_quality_pages import PASSWORD, sign_in
from tests.integrity import history

pytestmark = pytest.mark.browser


def test_bottlenecks_and_report(open_page: Any, country: Country) -> None:
    history.build(country)
    controller = create_user(username="controller-b", password=PASSWORD, role="controller",
                             validate=False)
    page = sign_in(open_page, controller, "/integrity/bottlenecks/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bottlenecks")
    expect(page.get_by_role("link", name="Bottlenecks", exact=True)).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Service", exact=True).select_option("01010001")
    page.get_by_label("Period", exact=True).fill("2026-07")
    with page.expect_navigation():
        page.get_by_role("button", name="Analyse").click()
    expect(page.get_by_role("img", name="Median stay per stage")).to_be_visible()
    stages = page.get_by_role("table", name="Dwell time per stage and use of the legal "
                              "deadline")
    approved = stages.get_by_role("row", name="Approved")
    expect(approved).to_contain_text("(slowest)")
    expect(approved).to_contain_text("72.0")
    documents = page.get_by_role("table", name="Documents requested from applicants")
    expect(documents.get_by_role("row", name="ID card")).to_contain_text("state database")
    variants = page.get_by_role("table", name="Variants")
    expect(variants.get_by_role("row").nth(1)).to_contain_text("60.0%")
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="The agency's optimisation report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Optimisation report")
    first = page.get_by_role("listitem").filter(has_text="Automate the stage")
    expect(first).to_contain_text("estimated saving: 9.08 citizen-days")
    expect(page.get_by_role("link", name="Download the report as PDF")).to_be_visible()
    assert_accessible(page)



