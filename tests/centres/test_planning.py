"""The staffing planner over a centre's history, and the statistics and planner pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from onestop.accounts.models import User
from onestop.catalogue.selectors import calendar_for, local_today
from onestop.centres import planner, planning
from onestop.centres.models import Centre, ServiceGroup, TicketState
from tests.centres.test_stats import make_ticket


def local(centre: Centre, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute,
                       tzinfo=ZoneInfo(centre.country.time_zone))


def tuesdays_at_ten(centre: Centre, a: ServiceGroup, days: list[dt.date]) -> None:
    """12 tickets an hour (one every 5 minutes) from 10:00, 10 minutes of service each."""
    for day in days:
        for i in range(12):
            make_ticket(centre, a, local(centre, day, 10, 5 * i), wait=60, service=600,
                        day=day)
        # a no-show and a cancelled ticket take no service: not in the plan
        make_ticket(centre, a, local(centre, day, 10, 1), state=TicketState.NO_SHOW,
                    wait=200, day=day)
        make_ticket(centre, a, local(centre, day, 10, 2), state=TicketState.CANCELLED, day=day)


def test_a_known_arrival_rate_gives_the_erlang_c_counters(
    centre: Centre, group: Callable[[str], ServiceGroup]
) -> None:
    # Wednesday 17 June 2026: the two weeks before are 3-16 June, with Tuesdays 9 and 16
    now = local(centre, dt.date(2026, 6, 17), 12)
    tuesdays_at_ten(centre, group("A"), [dt.date(2026, 6, 9), dt.date(2026, 6, 16)])
    # older than the two weeks: not in the history
    make_ticket(centre, group("A"), local(centre, dt.date(2026, 6, 2), 10), wait=1,
                service=6000, day=dt.date(2026, 6, 2))

    plan = planning.plan_centre(centre, weeks=2, now=now, simulation_minutes=2000)

    assert (plan.first_day, plan.last_day) == (dt.date(2026, 6, 3), dt.date(2026, 6, 16))
    assert plan.tickets == 24
    # the strictest maximum wait among A (01010001: 15 from 10 March), B (15) and R (30)
    assert plan.max_wait_minutes == 15
    assert len(plan.rows) == 1
    row = plan.rows[0]
    assert (row.weekday, row.hour) == (1, 10)
    assert row.arrivals_per_hour == 12
    assert row.mean_service_minutes == 10
    # load 2 Erlangs: 2 counters are unstable; 3 serve 90.1 % within 15 minutes
    assert row.counters == 3
    assert row.counters == planner.counters_needed(12, 10, 15, 0.8).counters
    assert row.erlang_share_within == pytest.approx(planner.share_within(3, 12, 10, 15))
    assert row.erlang_share_within == pytest.approx(0.9008, abs=1e-4)
    assert row.erlang_mean_wait_minutes == pytest.approx(planner.mean_wait(3, 12, 10))
    assert 0.0 <= row.simulated_share_within <= 1.0
    assert row.meets_standard


def test_a_stricter_target_needs_more_counters(
    centre: Centre, group: Callable[[str], ServiceGroup]
) -> None:
    now = local(centre, dt.date(2026, 6, 17), 12)
    tuesdays_at_ten(centre, group("A"), [dt.date(2026, 6, 9), dt.date(2026, 6, 16)])
    plan = planning.plan_centre(centre, weeks=2, target_share=0.99, now=now,
                                simulation_minutes=500)
    assert plan.rows[0].counters == planner.counters_needed(12, 10, 15, 0.99).counters > 3


def test_days_off_are_left_out_of_the_average(
    centre: Centre, group: Callable[[str], ServiceGroup]
) -> None:
    holiday = dt.date(2026, 7, 6)  # Capital Day, a Monday
    assert holiday in calendar_for(centre.country).days_off(2026)
    tuesdays_at_ten(centre, group("A"), [holiday, dt.date(2026, 7, 7)])
    plan = planning.plan_centre(centre, weeks=1, now=local(centre, dt.date(2026, 7, 8), 9),
                                simulation_minutes=500)
    assert [(r.weekday, r.hour, r.arrivals_per_hour) for r in plan.rows] == [(1, 10, 12)]


def test_each_hour_is_simulated_for_about_400_customers() -> None:
    def length(arrivals: float) -> float:
        return planning.simulation_length(planner.counters_needed(arrivals, 10, 15), 2000)

    assert length(60) == 400  # 400 arrivals at 60 an hour
    assert length(12) == 2000  # capped
    assert length(600) == 240  # at least 4 hours


def test_no_history_gives_an_empty_plan(centre: Centre) -> None:
    plan = planning.plan_centre(centre, weeks=4)
    assert plan.rows == []
    assert plan.tickets == 0
    assert plan.peak_counters == 0


def test_weeks_are_bounded(centre: Centre) -> None:
    with pytest.raises(ValueError, match="weeks must be from 1 to 52"):
        planning.plan_centre(centre, weeks=0)


# --- the pages ---------------------------------------------------------------------------


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def recent_history(centre: Centre, a: ServiceGroup) -> None:
    """Tickets on a working day of last week, so the default 8 weeks see them."""
    day = local_today(centre.country) - dt.timedelta(days=7)
    off = calendar_for(centre.country).days_off(day.year)
    while day in off:
        day -= dt.timedelta(days=1)
    for i in range(6):
        make_ticket(centre, a, local(centre, day, 11, 10 * i), wait=60, service=900, day=day)


def test_the_planner_page(client: Client, centre: Centre, supervisor: User,
                          group: Callable[[str], ServiceGroup]) -> None:
    recent_history(centre, group("A"))
    response = signed_in(client, supervisor).get("/centres/AST-01/planner/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Astana Centre No. 1" in html
    assert "<svg" in html
    assert 'role="img"' in html
    assert "<rect" in html
    assert "<table" in html
    assert "11:00" in html
    assert "cdn" not in html.lower()
    assert "<script" not in html.split("<svg")[1].split("</svg>")[0]


def test_the_planner_validates_its_settings(client: Client, supervisor: User) -> None:
    response = signed_in(client, supervisor).get("/centres/AST-01/planner/?weeks=0&target=100")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert "Ensure this value is greater than or equal to 1." in html
    assert "Ensure this value is less than or equal to 99." in html


def test_the_statistics_page(client: Client, centre: Centre, supervisor: User,
                             group: Callable[[str], ServiceGroup]) -> None:
    now = timezone.now()
    make_ticket(centre, group("A"), now, wait=600, service=300, counter=3,
                day=local_today(centre.country, now), finished_at=now)
    response = signed_in(client, supervisor).get("/centres/AST-01/statistics/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tickets issued today" in html
    assert "The queue now" in html
    assert "<td>10.0</td>" in html  # today's average wait in minutes

    response = client.get("/centres/AST-01/statistics/?start=2026-03-01&end=2026-03-31")
    assert response.status_code == 200
    assert "Tickets issued from 2026-03-01 to 2026-03-31" in response.content.decode()


def test_the_statistics_period_is_validated(client: Client, supervisor: User) -> None:
    signed_in(client, supervisor)
    response = client.get("/centres/AST-01/statistics/?start=2026-03-31&end=2026-03-01")
    assert response.status_code == 400
    assert "The period must not end before it starts." in response.content.decode()
    response = client.get("/centres/AST-01/statistics/?start=2024-01-01&end=2026-01-01")
    assert response.status_code == 400
    assert "Choose a period of at most 366 days." in response.content.decode()
    response = client.get("/centres/AST-01/statistics/?start=yesterday&end=")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid date." in html
    assert "This field is required." in html


@pytest.mark.parametrize("page", ["statistics", "planner"])
def test_who_may_open_the_pages(
    client: Client, page: str, centre: Centre, other_centre: Centre,
    make_user: Callable[..., User], make_staff: Callable[..., User],
) -> None:
    url = f"/centres/AST-01/{page}/"
    assert client.get(url).status_code == 302  # sign in first
    for user in (make_staff("supervisor"), make_user("controller"), make_user("analyst"),
                 make_user("admin")):
        assert signed_in(Client(), user).get(url).status_code == 200, user.role
    for user in (make_staff("operator"), make_staff("supervisor", centre=other_centre),
                 make_user("citizen")):
        response = signed_in(Client(), user).get(url)
        assert response.status_code == 403, user.role
    response = signed_in(Client(), make_user("admin")).get(f"/centres/NOPE/{page}/")
    assert response.status_code == 404
