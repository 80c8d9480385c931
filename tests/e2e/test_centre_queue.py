"""A centre's queue in a real browser: a ticket is taken at the kiosk, the display board
shows it called at counter 3 (and says so in each of the country's languages), the
operator serves it and submits an application at the counter, and the statistics count
its wait and service time. The kiosk, its ticket, the board and the desk go through axe,
the kiosk also at a phone's width; the board also works with JavaScript off.

The server's clock is the test's: frozen at Monday 2 March 2026, 10:00 in Almaty, and
moved on by hand between the steps, so the wait and service times are known.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from django.core.cache import cache

from onestop.accounts.services import create_user
from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.centres import stats
from onestop.centres.models import Centre, Ticket, TicketState
from tests.e2e.conftest import (
    ALMATY,
    PASSWORD,
    PHONE,
    FrozenTime,
    assert_accessible,
    fits_a_phone,
    freeze_time,
    playwright_expect,
    sign_in,
)

expect = playwright_expect()

pytestmark = pytest.mark.browser

MONDAY = datetime(2026, 3, 2, 10, tzinfo=ALMATY)
BIRTH = "01010001"
# The browser's voice, replaced by a recorder: what the board says is read back from it.
RECORD_SPEECH = """
window.spoken = [];
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  speak: function (utterance) {
    if (utterance.text) { window.spoken.push({text: utterance.text, lang: utterance.lang}); }
  },
  cancel: function () {}, getVoices: function () { return []; },
  speaking: false, pending: false, paused: false,
}});
"""


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch, country: Country) -> FrozenTime:
    frozen = freeze_time(monkeypatch, MONDAY)
    cache.clear()  # the kiosk's per-address ticket count
    return frozen


def click_and_wait(page: Any, target: Any) -> None:
    with page.expect_navigation():
        target.click()


def test_a_ticket_from_the_kiosk_to_the_counter_and_the_statistics(
    open_page: Any, chromium: Any, live_server: Any, now: FrozenTime, country: Country,
) -> None:
    operator = create_user(username="operator", password=PASSWORD, role="operator",
                           centre_code="AST-01", country_code="zz", validate=False)
    centre = Centre.objects.get(country=country, code="AST-01")

    # The board waits; its voice is recorded. A second board runs without JavaScript.
    board = open_page("/centres/AST-01/board/")
    board.add_init_script(RECORD_SPEECH)
    board.reload()
    expect(board.locator("#board-idle")).to_have_text("Please wait for your number.")
    assert_accessible(board)
    still = chromium.new_context(base_url=live_server.url, locale="en-US",
                                 java_script_enabled=False)
    plain = still.new_page()
    plain.goto("/centres/AST-01/board/")

    # 10:00 - a citizen takes a ticket for documents at the kiosk
    kiosk = open_page("/centres/AST-01/kiosk/")
    expect(kiosk.get_by_role("heading", level=1)).to_contain_text("Take a ticket")
    assert_accessible(kiosk)
    targets = kiosk.locator(".kiosk-groups button, .kiosk-choice").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().height)")
    assert len(targets) == 6  # three groups, no priority and two priority categories
    assert min(targets) >= 64, f"touch targets lower than 64px: {targets}"
    click_and_wait(kiosk, kiosk.get_by_role("button", name="A Documents"))
    expect(kiosk.locator("#ticket-number")).to_have_text("A-001")
    expect(kiosk.locator("#ahead")).to_have_text("0")
    expect(kiosk.get_by_role("button", name="Print the ticket")).to_be_visible()
    assert_accessible(kiosk)

    # 10:02 - the operator opens counter 3 and calls the next ticket
    now.advance(minutes=2)
    desk = sign_in(open_page, operator, "/desk/")
    assert_accessible(desk)
    desk.get_by_label("Counter number").select_option("3")
    click_and_wait(desk, desk.get_by_role("button", name="Open the counter"))
    expect(desk.get_by_role("status")).to_contain_text("Counter 3 is open.")
    expect(desk.locator("#upcoming")).to_contain_text("A-001")
    click_and_wait(desk, desk.get_by_role("button", name="Call the next ticket"))
    expect(desk.locator("#current-number")).to_have_text("A-001")
    assert_accessible(desk)

    # the board shows the call at counter 3, flashes and says it in kk, ru and en
    expect(board.locator("#board-current-number")).to_have_text("A-001")
    expect(board.locator("#board-current-counter")).to_have_text("3")
    expect(board.locator("#board-rows tr.current")).to_have_text(re.compile(r"A-001\s*3"))
    expect(board.locator("#board-now")).to_have_class(re.compile("board-flash"))
    expect(board.locator("#board-announcer")).to_have_text("Ticket A 1, counter 3")
    board.wait_for_function("window.spoken.length >= 3")
    spoken = board.evaluate("window.spoken")
    assert [s["lang"] for s in spoken] == ["kk", "ru", "en"]
    assert all("A 1" in s["text"] and "3" in s["text"] for s in spoken), spoken
    assert_accessible(board)
    expect(plain.locator("#board-current-number")).to_have_text("A-001")  # by reloading

    # 10:03 - the citizen comes; the operator submits an application at the counter
    now.advance(minutes=1)
    click_and_wait(desk, desk.get_by_role("button", name="Start serving"))
    expect(desk.locator("#current-state")).to_have_text("being served")
    click_and_wait(desk, desk.get_by_role("link", name="Submit an application"))
    desk.get_by_label("Or choose from every service offered at centres").select_option(BIRTH)
    click_and_wait(desk, desk.get_by_role("button", name="Open the form"))
    form = desk.locator("main form")
    form.get_by_label("National ID number (IIN)").fill("900101300011")
    form.get_by_label("Full name").fill("Aigerim Nurlanovna")
    form.get_by_label("Child's name").fill("Aruzhan")
    form.get_by_label("IIN (required)", exact=True).fill("250101300011")
    form.get_by_label("ID card").set_input_files(
        {"name": "id.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 ID card"})
    click_and_wait(desk, form.get_by_role("button", name="Submit the application"))
    expect(desk.get_by_role("heading", level=1)).to_have_text("Application submitted")
    number = desk.locator("#number").inner_text()

    # 10:10 - back at the desk the application is on the ticket; the operator finishes
    now.advance(minutes=7)
    click_and_wait(desk, desk.get_by_role("link", name="Operator desk (queue)"))
    expect(desk.locator("#current-applications")).to_have_text(number)
    click_and_wait(desk, desk.get_by_role("button", name="Finish"))
    expect(desk.get_by_role("status")).to_contain_text("A-001 is served.")
    expect(board.locator("#board-idle")).to_be_visible()

    ticket = Ticket.objects.get()
    assert ticket.state == TicketState.SERVED
    assert list(ticket.applications.all()) == [Application.objects.get(number=number)]
    assert (ticket.wait_seconds, ticket.service_seconds) == (120, 420)
    today = stats.today_stats(centre, now())
    assert (today.total.served, today.total.waits, today.total.services) == (1, [120.0], [420.0])
    assert today.served_per_counter == {3: 1}
    still.close()


def test_the_kiosk_fits_a_phone_and_stays_accessible(
    open_page: Any, now: FrozenTime, country: Country,
) -> None:
    kiosk = open_page("/centres/AST-01/kiosk/", viewport=PHONE)
    assert_accessible(kiosk)
    fits_a_phone(kiosk)
    kiosk.get_by_label("Appointment code").fill("NOPE00")
    click_and_wait(kiosk, kiosk.get_by_role("button", name="Take my appointment's ticket"))
    expect(kiosk.get_by_role("alert")).to_contain_text(
        "no appointment with this code at this centre")
    assert_accessible(kiosk)
    fits_a_phone(kiosk)
    kiosk.get_by_label("Elderly people").check()
    click_and_wait(kiosk, kiosk.get_by_role("button", name="B Other"))
    expect(kiosk.locator("#ticket-number")).to_have_text("B-001")
    assert_accessible(kiosk)
    fits_a_phone(kiosk)
