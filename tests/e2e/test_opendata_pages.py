"""The open data page in a real browser: anyone (no login) sees the periods, downloads a
CSV whose figures are the built file's, reads the dictionary; it passes axe in two
languages and on a phone-sized screen."""

from __future__ import annotations

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

from django.core.management import call_command

from onestop.accounts.services import create_user
from onestop.catalogue.models import Country
from onestop.quality import services as quality
from tests.e2e.conftest import assert_accessible, switch_language
from tests.quality import history

pytestmark = pytest.mark.browser

MINI_PACK = Path(__file__).parent.parent / "catalogue" / "data" / "mini"


@pytest.fixture
def published(country: Country, settings: Any, tmp_path: Path) -> Path:
    ops = [create_user(username=f"op-{i}", password="a long test password", role="operator",
                       centre_code="AST-01", country_code="zz", validate=False)
           for i in (1, 2)]
    quality.load_methodology(country=country, definition=quality.read_methodology(MINI_PACK))
    history.build(country, *ops)
    settings.OPENDATA_DIR = tmp_path / "opendata"
    call_command("opendata", "build", "--country", "zz", "--period", "2026-Q3",
                 stdout=io.StringIO())
    return settings.OPENDATA_DIR


def test_open_data_page_downloads_and_accessibility(published: Path, open_page: Any) -> None:
    page = open_page("/open-data/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open data")
    expect(page.get_by_role("heading", name="2026-Q3 (ZZ)")).to_be_visible()
    assert_accessible(page)
    link = page.get_by_role("link", name="performance_service 2026-Q3 CSV")
    with page.expect_download() as info:
        link.click()
    downloaded = Path(info.value.path()).read_bytes()
    assert downloaded == (published / "zz" / "2026-Q3" / "performance_service.csv").read_bytes()
    assert b"01010001,Registration of a child's birth,12,9,3," in downloaded
    switch_language(page, "ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert_accessible(page)
    phone = open_page("/open-data/", viewport={"width": 375, "height": 740})
    assert_accessible(phone)
