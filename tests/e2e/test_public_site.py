"""The public monitoring site in a real browser, without signing in: from the header's
Monitoring link to the national picture, the agency ranking, an agency, one of its
services, its indicator table and the CSV of that table, whose figures equal the stored
assessment run; the same in Russian; every page passes axe; a phone-sized screen works."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
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
from onestop.public import services as public
from onestop.quality.models import AssessmentResult, AssessmentRun
from tests.e2e.conftest import assert_accessible, switch_language
from tests.public.conftest import NOW, assess_all
from tests.quality import history

pytestmark = pytest.mark.browser

PASSWORD = "a long test password"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def refreshed(country: Country) -> history.History:
    ops = [create_user(username=f"op-{i}", password=PASSWORD, role="operator",
                       centre_code="AST-01", country_code="zz", validate=False)
           for i in (1, 2)]
    built = history.build(country, *ops)
    assess_all(country)
    public.refresh(country, now=NOW)
    return built


def stored(scope: str, code: str) -> AssessmentResult:
    run = AssessmentRun.objects.filter(period="2026-Q3", scope=scope).latest("created_at")
    return AssessmentResult.objects.get(run=run, unit_code=code)


def table_rows(table: Any) -> list[list[str]]:
    return table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.children).map(c => c.textContent.trim()))")


def download_csv(page: Any, name: str) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    path = Path(info.value.path())
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_from_ranking_to_a_service_table_and_its_csv(open_page: Any,
                                                     refreshed: history.History) -> None:
    page = open_page("/")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Monitoring").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How public services perform")
    expect(page.get_by_text("Figures as of 2026-10-15 07:00")).to_be_visible()
    expect(page.get_by_role("img", name="Timeliness, digital take-up")).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Ranking of agencies").click()
    ranking = page.get_by_role("table", name="Ranking of agencies, 2026-Q3")
    expect(ranking.get_by_role("row").nth(1)).to_contain_text("45.0")
    expect(ranking.get_by_role("row").nth(2)).to_contain_text("not ranked")
    assert_accessible(page)
    zags = stored("agency", "MJ-ZAGS")
    cells = table_rows(ranking)[0]
    assert cells[:4] == ["Civil Registry Department", "MJ-ZAGS", "1", str(zags.score)]

    with page.expect_navigation():
        ranking.get_by_role("link", name="Civil Registry Department").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Civil Registry Department")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Registration of a child's birth").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration of a child's birth")
    expect(page.get_by_role("table", name="The standard beside the performance")).to_be_visible()
    assert_accessible(page)

    indicators = page.get_by_role("table", name="The indicators behind the score, 2026-Q3")
    shown = {row[1]: row for row in table_rows(indicators)}
    downloaded = download_csv(
        page, "Download “The indicators behind the score, 2026-Q3” as CSV")
    service = stored("service", "01010001")
    assert {row["code"] for row in downloaded} == set(service.values)
    for row in downloaded:
        value = service.values[row["code"]]
        # the CSV has the same figures as the table on the page...
        assert [row["value"] or "–", row["n"]] == shown[row["code"]][3:5]
        # ...and they are those of the stored assessment run
        assert int(row["n"]) == value["n"]
        if value["value"] is None:
            assert row["value"] == ""
        elif row["code"] == "cost_per_transaction":
            assert float(row["value"]) == round(value["value"], 2)
        else:
            assert float(row["value"]) == round(100 * value["value"], 1)
    assert shown["timeliness"][3] == "90.0"

    # the same pages in Russian, with the header's language selector
    switch_language(page, "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Регистрация рождения ребенка")
    assert_accessible(page)
    page.goto("/monitor/rankings/agency/")
    expect(page.get_by_role("table").first).to_contain_text("Департамент ЗАГС")
    assert_accessible(page)


def test_public_pages_on_a_phone(open_page: Any, refreshed: history.History) -> None:
    for path in ("/monitor/", "/monitor/rankings/agency/", "/monitor/service/01010001/",
                 "/monitor/centre/AST-01/", "/monitor/control/", "/monitor/methodology/",
                 "/monitor/audit/"):
        page = open_page(path, viewport=PHONE)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        # nothing but the tables' own scrolling regions is wider than the screen
        assert page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth + 1"), path
        assert_accessible(page)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_public_page_in_each_language_of_the_pack(
    open_page: Any, refreshed: history.History, language: str
) -> None:
    """The mini pack speaks Kazakh, Russian and English: each public page passes axe in
    each of them, on a phone-sized screen too."""
    page = open_page("/monitor/")
    switch_language(page, language)
    for path in ("/monitor/", "/monitor/rankings/agency/", "/monitor/rankings/region/",
                 "/monitor/agency/MJ-ZAGS/", "/monitor/service/01010001/",
                 "/monitor/centres/", "/monitor/centre/AST-01/", "/monitor/control/",
                 "/monitor/methodology/", "/monitor/audit/", "/open-data/"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
    page.set_viewport_size(PHONE)
    page.goto("/monitor/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_accessible(page)
