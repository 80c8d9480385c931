"""The control body's red-flag pages in a real browser: a controller opens the list,
filters it by flag, opens a subject's case file, sees the evidence one click away and
adds a note; every page passes axe."""

from __future__ import annotations

import datetime as dt
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
from onestop.integrity.models import CaseNote, FlagResult, FlagRun
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_quality_pages import PASSWORD, sign_in
from tests.integrity import history

pytestmark = pytest.mark.browser


def test_controller_filters_opens_a_case_and_adds_a_note(open_page: Any,
                                                         country: Country) -> None:
    flow = history.build(country)
    officers = [create_user(username=f"officer-rf{i}", password=PASSWORD, role="officer",
                            agency_code=flow.zags.code, country_code="zz", validate=False)
                for i in (1, 2)]
    now = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
    run = FlagRun.objects.create(country=country, period="2026-Q3", starts_at=now,
                                 ends_at=now, config_version="t", config_sha256="0" * 64,
                                 source="live:test", created_at=now)
    p1 = flow.apps["p1"]
    FlagResult.objects.bulk_create([
        FlagResult(run=run, subject_kind="officer", subject_id=officers[0].pk,
                   flag="refusal_rate", service_id=flow.birth.pk, agency_id=flow.zags.pk,
                   value=0.6, z=5.0, n=30, hits=18, peers_n=3, score=5.0,
                   evidence={"applications": [p1.pk]}),
        FlagResult(run=run, subject_kind="officer", subject_id=officers[1].pk,
                   flag="off_hours", service_id=flow.birth.pk, agency_id=flow.zags.pk,
                   value=0.5, z=8.0, n=40, hits=20, peers_n=3, score=8.0, evidence={}),
    ])
    controller = create_user(username="controller-rf", password=PASSWORD, role="controller",
                             validate=False)
    page = sign_in(open_page, controller, "/integrity/flags/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Red flags")
    expect(page.get_by_role("link", name="Red flags", exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Subjects by risk score")
    expect(table.get_by_role("row").nth(1)).to_contain_text("officer-rf2")
    expect(table.get_by_role("row").nth(2)).to_contain_text("officer-rf1")
    assert_accessible(page)

    page.get_by_label("Flag", exact=True).select_option("refusal_rate")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table.get_by_role("row").nth(1)).to_contain_text("officer-rf1")
    expect(page.get_by_role("link", name="Download this list as CSV")).to_be_visible()

    with page.expect_navigation():
        table.get_by_role("link", name="officer-rf1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("officer-rf1")
    history_table = page.get_by_role("table", name="Every stored raised flag")
    expect(history_table.get_by_role("row", name="refusal rate")).to_contain_text("2026-Q3")
    page.get_by_text("refusal rate", exact=True).last.click()  # open the evidence
    expect(page.get_by_role("link", name=p1.number)).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Note", exact=True).fill("Asked the agency for the refused files.")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_role("status")).to_contain_text("The note was added.")
    expect(page.get_by_text("Asked the agency for the refused files.")).to_be_visible()
    assert CaseNote.objects.get().author == controller
    assert_accessible(page)
