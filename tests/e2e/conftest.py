"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Without /usr/bin/chromium, Playwright or axe-core (``npm install`` puts it in node_modules)
the tests skip and say why, except in CI (CI=true), where a missing tool fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.catalogue.packs import read_pack
from onestop.catalogue.services import load_pack
from tests.conftest import MINI_PACK

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
TIMEOUT_MS = 15_000
ALMATY = ZoneInfo("Asia/Almaty")
PASSWORD = "a long test password"  # every browser test's users sign in with it
PHONE = {"width": 375, "height": 740}


def _missing(reason: str) -> None:
    """Skip for want of a tool, or fail when CI, which must run the browser tests, lacks it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole test module."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not AXE.exists():
        _missing(f"{AXE} is missing (run `npm install` in the repository root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[dev]')")
    # Playwright's sync API keeps its asyncio loop "running" in this thread, so Django
    # would refuse ORM calls from the test (SynchronousOnlyOperation). The documented
    # workaround; restored when the module's browser closes.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
        finally:
            playwright.stop()


@pytest.fixture
def country(transactional_db: None, settings: Any) -> Country:
    """The test pack (country zz), loaded for the live server and shown by default."""
    load_pack(read_pack(MINI_PACK))
    settings.ONESTOP_COUNTRY = "zz"
    return Country.objects.get(code="zz")


@pytest.fixture
def open_page(chromium: Any, live_server: Any, country: Country) -> Iterator[Any]:
    """A factory of pages, each in a fresh context (no cookies) with an English browser.

    ``open_page(path, viewport=...)`` opens ``path`` on the live server and returns the page.
    """
    contexts = []

    def open_(path: str = "/", viewport: dict[str, int] | None = None) -> Any:
        context = chromium.new_context(
            base_url=live_server.url,
            locale="en-US",
            viewport=viewport or {"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(path)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Any) -> Any:
    """A desktop-sized page on the home page, in English."""
    return open_page("/")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.0/2.1 A and AA rules on the page; return the violations."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html,
                                          summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )


def assert_accessible(page: Any) -> None:
    """Fail on any serious or critical axe violation, listing each with its nodes."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    lines = []
    for violation in blocking:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} "
                     f"[{violation['helpUrl']}]")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html']}")
            if node["summary"]:
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    if blocking:
        lang = page.locator("html").get_attribute("lang")
        pytest.fail(
            f"axe found {len(blocking)} serious or critical problem(s) on {page.url} "
            f"(lang={lang}):\n" + "\n".join(lines)
        )


def switch_language(page: Any, code: str) -> None:
    """Choose a language in the header's selector and submit it, as a user would."""
    form = page.locator("form").filter(has=page.locator("select[name=language]"))
    form.locator("select[name=language]").select_option(code)
    with page.expect_navigation():
        form.get_by_role("button").click()


# --- what the browser tests of the queue, the whole path and the statistics share -------


def playwright_expect() -> Any:
    """Playwright's ``expect``, for a test module to call at import time: without Playwright
    the module skips, except in CI (CI=true), where the ImportError stands."""
    try:
        from playwright.sync_api import expect
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Playwright is not installed (pip install -e '.[dev]')",
                    allow_module_level=True)
    return expect


class FrozenTime:
    """timezone.now() for the live server and the test alike, moved on by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **amount: float) -> None:
        self.at += timedelta(**amount)

    def set(self, at: datetime) -> None:
        self.at = at


def freeze_time(monkeypatch: pytest.MonkeyPatch, at: datetime) -> FrozenTime:
    """Stop the server's and the test's clock at ``at``; the returned clock moves it on."""
    frozen = FrozenTime(at)
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


def sign_in(open_page: Any, user: User, path: str, **options: Any) -> Any:
    """Open the sign-in page for ``path`` (``options`` go to ``open_page``), sign ``user``
    in with PASSWORD and return the page, now on ``path``."""
    page = open_page(f"/accounts/login/?next={path}", **options)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Sign in").click()
    return page


def fits_a_phone(page: Any) -> None:
    """Fail if the page scrolls sideways (call it on a page opened at PHONE's width)."""
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth,"
                           " client: document.documentElement.clientWidth})")
    assert widths["scroll"] <= widths["client"], (
        f"{page.url} scrolls sideways on a 375px screen: {widths['scroll']}px wide")
