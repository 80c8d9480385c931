"""The public pages in a real browser: what people see, in their language, on any screen.

Each page must pass axe-core's WCAG 2.1 A/AA rules with no serious or critical violation,
in English and after switching to Russian, Kazakh or Uzbek with the header's selector.
The service page is read at the 2024 version of the mini pack's standard (``?on=``), so
what it shows does not depend on today's date.
"""

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

from onestop.accounts.services import create_user
from tests.e2e.conftest import assert_accessible, switch_language

pytestmark = pytest.mark.browser

BIRTH = "01010001"
JOBS = "02020001"
BIRTH_2024 = f"/services/{BIRTH}/?on=2024-06-01"
PASSWORD = "a long test password"

# For each page: its address and a heading by which a user knows the page, per language.
PAGES: dict[str, tuple[str, str, dict[str, str]]] = {
    "home": ("/", "h1", {
        "en": "Public services", "ru": "Государственные услуги",
        "kk": "Мемлекеттік қызметтер", "uz": "Davlat xizmatlari",
    }),
    "search-results": ("/services/?q=рождения", "h1", {
        "en": "Search services", "ru": "Поиск услуг",
        "kk": "Қызметтерді іздеу", "uz": "Xizmatlarni qidirish",
    }),
    "service": (BIRTH_2024, "h2", {
        "en": "Service standard", "ru": "Стандарт государственной услуги",
        "kk": "Мемлекеттік көрсетілетін қызмет стандарты", "uz": "Davlat xizmati standarti",
    }),
    "agencies": ("/agencies/", "h1", {
        "en": "Agencies", "ru": "Государственные органы",
        "kk": "Мемлекеттік органдар", "uz": "Davlat organlari",
    }),
    "sign-in": ("/accounts/login/", "h1", {
        "en": "Sign in", "ru": "Войти", "kk": "Кіру", "uz": "Kirish",
    }),
    "not-found": ("/no/such/page/", "h1", {
        "en": "Not found", "ru": "Не найдено", "kk": "Табылмады", "uz": "Topilmadi",
    }),
}


def heading(page: Any, tag: str, text: str) -> Any:
    return page.locator(tag).filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


@pytest.mark.parametrize("language", ["ru", "kk", "uz"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible_in_english_and_after_switching_language(
    open_page: Any, name: str, language: str
) -> None:
    path, tag, headings = PAGES[name]
    page = open_page(path)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading(page, tag, headings["en"])).to_be_visible()
    assert_accessible(page)

    switch_language(page, language)

    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(heading(page, tag, headings[language])).to_be_visible()
    expect(page.locator("select[name=language]")).to_have_value(language)
    assert_accessible(page)


def test_language_choice_is_kept_from_page_to_page(open_page: Any) -> None:
    page = open_page("/")
    switch_language(page, "ru")
    page.get_by_role("navigation").get_by_role("link", name="Государственные органы").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Государственные органы")
    expect(page.get_by_role("link", name="Департамент ЗАГС")).to_be_visible()


@pytest.mark.parametrize(("language", "words"), [
    pytest.param("ru", "рождения", id="ru"),
    pytest.param("kk", "тууын", id="kk"),
])
def test_search_finds_a_service_by_a_word_in_any_language(
    page: Any, language: str, words: str
) -> None:
    switch_language(page, language)
    page.locator("#id_q").fill(words)
    with page.expect_navigation():
        page.locator("form[role=search] button[type=submit]").click()

    results = page.get_by_role("table")
    expect(results.get_by_role("cell", name=BIRTH, exact=True)).to_be_visible()
    expect(results.get_by_role("cell", name=JOBS, exact=True)).to_have_count(0)
    name = {"ru": "Регистрация рождения ребенка", "kk": "Баланың тууын тіркеу"}[language]
    expect(results.get_by_role("link", name=name)).to_be_visible()
    expect(page.locator("#id_q")).to_have_value(words)


def test_search_says_when_nothing_is_found(open_page: Any) -> None:
    page = open_page("/services/?q=nonexistentword")
    expect(page.get_by_text("No services found.")).to_be_visible()


def test_home_page_lists_life_situations_and_the_search_form(page: Any) -> None:
    expect(page.get_by_role("search").get_by_label("Search services")).to_be_visible()
    expect(page.get_by_role("link", name="Birth of a child")).to_be_visible()
    expect(page.get_by_role("link", name="Job loss")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("2 services of 3 agencies")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900},
                                      {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_the_search_box_is_one_line_high(open_page: Any, viewport: dict[str, int]) -> None:
    page = open_page("/", viewport=viewport)
    box = page.get_by_label("Search services").bounding_box()
    button = page.get_by_role("button", name="Search").bounding_box()
    # a text box as high as the button beside it, not stretched down the page
    assert box["height"] < 2 * button["height"], (box, button)
    assert box["width"] > viewport["width"] / 2


def test_a_page_loads_nothing_that_fails_and_names_its_icon(open_page: Any) -> None:
    failed: list[str] = []
    page = open_page()
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert failed == []
    # the tab's icon, so that browsers do not ask for a /favicon.ico that is not there
    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.request.get(icon)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")


def test_service_page_shows_the_standard(open_page: Any) -> None:
    page = open_page(f"/services/{BIRTH}/")
    # The version form, used as a user would, picks the 2024 standard.
    page.get_by_label("Standard in force on").fill("2024-06-01")
    with page.expect_navigation():
        page.get_by_role("form", name="Earlier versions of the standard").get_by_role(
            "button", name="Show").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Registration of a child's birth")
    standard = page.locator("table.standard")
    expect(standard.get_by_role("row", name=re.compile(r"^Deadline"))).to_contain_text(
        "2 working days")
    expect(standard.get_by_role("row", name=re.compile(r"^Result"))).to_contain_text(
        "Birth certificate or a motivated refusal")
    expect(standard.get_by_role("row", name=re.compile(r"^Channels"))).to_contain_text(
        "one-stop-shop centre")

    # Documents: what the applicant brings and what comes from state databases, apart.
    main = page.get_by_role("main")
    bring = main.locator("h3:text-is('You bring') + ul")
    expect(bring).to_have_text("ID card")
    from_state = main.locator(
        "h3:text-is('Obtained from state databases (you do not bring them)') + ul")
    expect(from_state).to_have_text("Medical birth record")

    refusal = main.locator("h2:text-is('Grounds for refusal') ~ ol").first
    expect(refusal.get_by_role("listitem")).to_have_text(["Unreliable documents"])

    eform = main.locator("h2:text-is('Application form') + table")
    expect(eform.get_by_role("row", name=re.compile(r"^Child's name"))).to_contain_text("yes")
    expect(eform.get_by_role("row", name=re.compile(r"^IIN"))).to_contain_text("string")


def test_service_page_in_russian_uses_russian_plurals_and_terms(open_page: Any) -> None:
    page = open_page(BIRTH_2024)
    switch_language(page, "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Регистрация рождения ребенка")
    standard = page.locator("table.standard")
    expect(standard.get_by_role("row", name=re.compile(r"^Срок оказания"))).to_contain_text(
        "2 рабочих дня")
    expect(standard).to_contain_text("мотивированный отказ")
    expect(standard).to_contain_text("ЦОН")
    expect(page.get_by_role("heading", name="Вы представляете")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_service_page_fits_a_phone_screen(open_page: Any, language: str) -> None:
    page = open_page(BIRTH_2024, viewport={"width": 375, "height": 740})
    if language != "en":
        switch_language(page, language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("table.standard")).to_be_visible()
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], (
        f"the service page scrolls sideways on a 375px screen ({language}): "
        f"content is {widths['scroll']}px wide"
    )


def test_signing_in_shows_sign_out_in_the_header(page: Any) -> None:
    create_user(username="aigerim", password=PASSWORD, role="citizen", validate=False)
    page.get_by_role("navigation").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("aigerim")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Sign in").click()

    header = page.get_by_role("banner")
    expect(header.get_by_role("button", name="Sign out (aigerim)")).to_be_visible()
    expect(header.get_by_role("link", name="Sign in")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Public services")


@pytest.mark.parametrize(("language", "error"), [
    pytest.param("en", "Please enter a correct username and password.", id="en"),
    pytest.param("ru", "Пожалуйста, введите правильные имя пользователя и пароль.", id="ru"),
])
def test_a_wrong_password_shows_an_error(open_page: Any, language: str, error: str) -> None:
    create_user(username="aigerim", password=PASSWORD, role="citizen", validate=False)
    page = open_page("/accounts/login/")
    if language != "en":
        switch_language(page, language)
    page.locator("#id_username").fill("aigerim")
    page.locator("#id_password").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button").click()

    expect(page.get_by_role("alert")).to_contain_text(error)
    expect(page.get_by_role("banner").get_by_role("button", name=re.compile("aigerim"))
           ).to_have_count(0)
    assert_accessible(page)
