"""The shipped Kazakhstan and Uzbekistan packs, loaded: their register and their calendars."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils.html import escape

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.catalogue.packs import read_pack, resolve_pack_path
from onestop.catalogue.services import load_pack
from onestop.core.clock import Clock, Pause

ALMATY = ZoneInfo("Asia/Almaty")
TASHKENT = ZoneInfo("Asia/Tashkent")


@pytest.fixture
def uz(db: None) -> Country:
    load_pack(read_pack(resolve_pack_path("uz")))
    return Country.objects.get(code="uz")


def test_kz_service_found_by_russian_and_kazakh_words(kz: Country, client: Client) -> None:
    for query in ("рождения ребенка", "ребёнка тууын", "соттылық", "судимости"):
        found = client.get("/api/v1/services", {"q": query, "country": "kz"}).json()
        assert found["count"] >= 1, query
    birth = client.get("/api/v1/services", {"q": "тууын тіркеу", "country": "kz"}).json()
    assert "01010001" in [item["code"] for item in birth["items"]]


def test_kz_page_and_api_show_the_same_standard(kz: Country, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ONESTOP_COUNTRY = "kz"
    api = client.get("/api/v1/services/01010001", {"lang": "en"}).json()
    page = client.get("/services/01010001/").content.decode()
    assert "1,725 tenge" in api["fee"]["note"]  # record changes from 10 March 2026
    assert "1,725 tenge" in page
    for document in api["documents"]:
        assert escape(document["name"]) in page
    for ground in api["refusal_grounds"]:
        assert escape(ground["text"]) in page
    older = client.get("/api/v1/services/01010001", {"on": "2026-03-09", "lang": "en"}).json()
    assert older["valid_from"] == "2024-01-01"
    assert "1,932 tenge" in older["fee"]["note"]  # the earlier price


def test_kz_older_version_after_a_change_through_the_api(
    kz: Country, client: Client, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    admin = api_client(make_user("admin"))
    before = client.get("/api/v1/services/10220001", {"country": "kz"}).json()
    changed = admin.post(
        "/api/v1/services/10220001/versions?country=kz",
        {"valid_from": "2026-12-01", "changes": {"deadline": {"value": 5, "unit": "minutes"}}},
        content_type="application/json",
    )
    assert changed.status_code == 201, changed.content
    on_date = client.get(
        "/api/v1/services/10220001", {"country": "kz", "on": "2026-11-30"}
    ).json()
    assert on_date["deadline"] == before["deadline"]
    after = client.get("/api/v1/services/10220001", {"country": "kz", "on": "2026-12-01"}).json()
    assert after["deadline"] == {"value": 5, "unit": "minutes"}


def test_kz_deadline_across_new_year_and_nauryz(kz: Country) -> None:
    calendar = kz.working_calendar()
    # 60 working days from Wed 24 Dec 2025, counted by hand:
    # Dec 25, 26, 29, 30, 31 -> 5; Jan: 1-2 New Year and 7 Orthodox Christmas off,
    # 19 working days -> 24; Feb: 20 -> 44; Mar 2-6 -> 49, 9 Mar off (8 Mar moved),
    # 10-13 -> 53, 16-20 -> 58, 23-25 Nauryz off, Thu 26 -> 59, Fri 27 -> 60.
    submitted = datetime(2025, 12, 24, 11, 0, tzinfo=ALMATY)
    assert calendar.deadline(submitted, 60, "working_days") == datetime(
        2026, 3, 27, 18, 0, tzinfo=ALMATY
    )
    # The clock stopped Fri 13 Mar 15:00 and resumed Mon 16 Mar 10:00 excludes 3 h on
    # Friday and 1 h on Monday: the deadline moves 4 working hours, to Mon 30 Mar 13:00.
    clock = Clock(
        calendar=calendar, started_at=submitted, value=60, unit="working_days",  # type: ignore[arg-type]
        pauses=(Pause(datetime(2026, 3, 13, 15, tzinfo=ALMATY),
                      datetime(2026, 3, 16, 10, tzinfo=ALMATY)),),
    )
    now = datetime(2026, 3, 20, 12, tzinfo=ALMATY)
    assert clock.deadline_at(now) == datetime(2026, 3, 30, 13, 0, tzinfo=ALMATY)
    assert clock.stopped_time(now) == timedelta(hours=4)


def test_uz_deadline_across_the_decree_new_year(uz: Country) -> None:
    calendar = uz.working_calendar()
    # 10 working days from Wed 24 Dec 2025: Dec 25, 26, 29, 30 -> 4; 31 Dec (decree),
    # 1 Jan and 2 Jan (decree) off; Jan 5-9 -> 9 (7 Jan is a working day in Uzbekistan);
    # Mon 12 Jan -> 10.
    submitted = datetime(2025, 12, 24, 16, 45, tzinfo=TASHKENT)
    assert calendar.deadline(submitted, 10, "working_days") == datetime(
        2026, 1, 12, 18, 0, tzinfo=TASHKENT
    )
    # Saturday 12 Dec 2026 is a working day by decree (its rest moved to 31 Dec).
    assert calendar.deadline(datetime(2026, 12, 11, 10, tzinfo=TASHKENT), 1, "working_days") == (
        datetime(2026, 12, 12, 18, 0, tzinfo=TASHKENT)
    )


def test_both_packs_side_by_side(kz: Country, uz: Country, client: Client) -> None:
    kz_codes = {i["code"] for i in client.get(
        "/api/v1/services", {"country": "kz", "limit": 200}).json()["items"]}
    uz_codes = {i["code"] for i in client.get(
        "/api/v1/services", {"country": "uz", "limit": 200}).json()["items"]}
    assert len(kz_codes) >= 40
    assert len(uz_codes) >= 40
    uz_service = client.get("/api/v1/services", {"country": "uz", "lang": "uz"}).json()
    assert uz_service["items"][0]["country"] == "uz"
