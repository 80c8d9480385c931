"""API of the centres: centres, their live queue and statistics (public, no personal data).

The public routes answer with numbers only: counts, minutes, ticket numbers and counter
numbers; never a citizen's name or national ID nor an operator's identity.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError

from onestop.accounts.api import staff_bearer
from onestop.accounts.models import User
from onestop.catalogue.api import Text, resolve_country
from onestop.catalogue.selectors import local_today
from onestop.centres import stats
from onestop.centres.models import Centre
from onestop.core.api_errors import ErrorOut, IsoDate

router = Router(tags=["centres"])

Language = Literal["kk", "ru", "uz", "en"]
CentreId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the centre's id")]


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class CentreOut(Schema):
    id: int
    code: str
    country: str
    name: str
    names: dict[str, str]
    region: str
    region_name: str
    kind: str
    address: str
    counters: int
    opening_hours: dict[str, list[str]]
    breaks: dict[str, list[str]]
    open_now: bool
    waiting: int
    expected_wait_minutes: float | None = Field(
        description="the longest expected wait among the centre's queues with an open "
        "counter; null when no counter is open"
    )


class CentreListOut(Schema):
    count: int
    items: list[CentreOut]


def centre_out(centre: Centre, live: stats.CentreLive, text: Text, now: dt.datetime
               ) -> dict[str, Any]:
    return {
        "id": centre.pk,
        "code": centre.code,
        "country": centre.country.code,
        "name": text(centre.name),
        "names": centre.name,
        "region": centre.region.code,
        "region_name": text(centre.region.name),
        "kind": centre.kind,
        "address": text(centre.address),
        "counters": centre.counters,
        "opening_hours": centre.opening_hours or {},
        "breaks": centre.breaks or {},
        "open_now": stats.is_open(centre, now),
        "waiting": live.waiting,
        "expected_wait_minutes": minutes(live.expected_wait_seconds),
    }


class CentreFilters(Schema):
    country: str | None = Field(default=None, pattern="^[a-z]{2}$",
                                description="country pack code, e.g. kz")
    region: str | None = Field(default=None, max_length=16, description="region code")
    lang: Language | None = None


@router.get(
    "/centres", response={200: CentreListOut, 404: ErrorOut, 422: ErrorOut},
    summary="One-stop-shop centres and how long their queues are now",
)
def list_centres(request: HttpRequest, filters: Query[CentreFilters]) -> dict[str, Any]:
    """The country's centres (of one region with `region`), with opening hours, whether
    each is open now, people waiting and the expected wait of a new ticket."""
    country = resolve_country(filters.country)
    text = Text(country, filters.lang)
    centres = Centre.objects.filter(country=country).select_related("country", "region")
    if filters.region:
        centres = centres.filter(region__code=filters.region)
    found = list(centres)
    now = timezone.now()
    live = stats.country_overview(country, now, centres=found)
    items = [centre_out(c, live[c.pk], text, now) for c in found]
    return {"count": len(items), "items": items}


class LangQuery(Schema):
    lang: Language | None = None


def _centre(centre_id: int) -> Centre:
    centre = Centre.objects.filter(pk=centre_id).select_related("country", "region").first()
    if centre is None:
        raise HttpError(404, f"no centre {centre_id}")
    return centre


@router.get(
    "/centres/{centre_id}", response={200: CentreOut, 404: ErrorOut, 422: ErrorOut},
    summary="A centre",
)
def get_centre(request: HttpRequest, centre_id: CentreId, query: Query[LangQuery]
               ) -> dict[str, Any]:
    centre = _centre(centre_id)
    now = timezone.now()
    live = stats.country_overview(centre.country, now, centres=[centre])
    return centre_out(centre, live[centre.pk], Text(centre.country, query.lang), now)


class CallOut(Schema):
    number: str
    counter: int | None
    state: Literal["called", "serving"]


class QueueGroupOut(Schema):
    code: str
    name: str
    waiting: int
    open_counters: int
    longest_wait_minutes: float | None
    expected_wait_minutes: float | None
    mean_service_minutes: float | None
    service_time_from: Literal["recent", "history", "standard", "default"]
    now_serving: list[CallOut]
    max_wait_minutes: int
    today_served: int
    today_avg_wait_minutes: float | None
    today_p90_wait_minutes: float | None
    today_within_standard_share: float | None


class QueueOut(Schema):
    centre: int
    code: str
    at: dt.datetime
    day: dt.date
    open_now: bool
    waiting: int
    groups: list[QueueGroupOut]


@router.get(
    "/centres/{centre_id}/queue", response={200: QueueOut, 404: ErrorOut, 422: ErrorOut},
    summary="A centre's queue now",
)
def get_queue(request: HttpRequest, centre_id: CentreId, query: Query[LangQuery]
              ) -> dict[str, Any]:
    """Per service group: people waiting, the longest current wait, the expected wait of a
    ticket taken now (`waiting * mean service / open counters`), the tickets being called
    or served by number and counter, and today's average and p90 wait and the share of
    tickets called within the maximum wait."""
    centre = _centre(centre_id)
    text = Text(centre.country, query.lang)
    now = timezone.now()
    live = stats.centre_live(centre, now)
    today = stats.today_stats(centre, now)
    by_group = {g.group.pk: g for g in today.groups}
    standards = stats.group_standards(centre.country, today.last_day)
    groups = []
    for g in live.groups:
        summary = by_group[g.group.pk].summary if g.group.pk in by_group else stats.Summary()
        groups.append({
            "code": g.group.code,
            "name": text(g.group.name),
            "waiting": g.waiting,
            "open_counters": g.open_counters,
            "longest_wait_minutes": minutes(g.longest_wait_seconds),
            "expected_wait_minutes": minutes(g.expected_wait_seconds),
            "mean_service_minutes": minutes(g.mean_service_seconds),
            "service_time_from": g.service_time_source,
            "now_serving": [{"number": n, "counter": c, "state": s}
                            for n, c, s in g.now_serving],
            "max_wait_minutes": standards.max_wait(g.group.pk),
            "today_served": summary.served,
            "today_avg_wait_minutes": minutes(summary.avg_wait_seconds),
            "today_p90_wait_minutes": minutes(summary.p90_wait_seconds),
            "today_within_standard_share": share(summary.within_standard_share),
        })
    return {
        "centre": centre.pk, "code": centre.code, "at": now, "day": today.first_day,
        "open_now": stats.is_open(centre, now), "waiting": live.waiting, "groups": groups,
    }


class SummaryOut(Schema):
    tickets: int
    served: int
    no_show: int
    cancelled: int
    avg_wait_minutes: float | None
    p90_wait_minutes: float | None
    avg_service_minutes: float | None
    p90_service_minutes: float | None
    within_standard_share: float | None
    no_show_rate: float | None


class GroupStatsOut(SummaryOut):
    code: str
    name: str
    max_wait_minutes: int


class StatisticsOut(Schema):
    centre: int
    code: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    total: SummaryOut
    groups: list[GroupStatsOut]
    by_source: dict[str, int]
    served_per_counter: dict[str, int]


def summary_out(summary: stats.Summary) -> dict[str, Any]:
    return {
        "tickets": summary.tickets,
        "served": summary.served,
        "no_show": summary.no_show,
        "cancelled": summary.cancelled,
        "avg_wait_minutes": minutes(summary.avg_wait_seconds),
        "p90_wait_minutes": minutes(summary.p90_wait_seconds),
        "avg_service_minutes": minutes(summary.avg_service_seconds),
        "p90_service_minutes": minutes(summary.p90_service_seconds),
        "within_standard_share": share(summary.within_standard_share),
        "no_show_rate": share(summary.no_show_rate),
    }


class PeriodQuery(Schema):
    from_: IsoDate | None = Field(default=None, alias="from",
                                  description="first local day, YYYY-MM-DD (default: today)")
    to: IsoDate | None = Field(default=None, description="last local day (default: from)")
    lang: Language | None = None


@router.get(
    "/centres/{centre_id}/statistics",
    auth=staff_bearer,
    response={200: StatisticsOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
              422: ErrorOut},
    summary="A centre's queue statistics for a period",
    by_alias=True,
)
def get_statistics(request: HttpRequest, centre_id: CentreId, query: Query[PeriodQuery]
                   ) -> dict[str, Any]:
    """For the centre's manager and operators, controllers, analysts and admins: per
    group and in total, average and p90 wait and service times, the share of waits within
    the maximum wait, the no-show rate, tickets by source and served per counter, for the
    tickets issued from `from` to `to` (local days, both included, at most 366 days)."""
    user: User = request.auth  # type: ignore[attr-defined]
    centre = _centre(centre_id)
    if not stats.may_see_statistics(user, centre):
        raise HttpError(403, "a centre's statistics are for its manager and operators, "
                             "controllers, analysts and administrators")
    first_day = query.from_ or local_today(centre.country)
    last_day = query.to or first_day
    try:
        period = stats.period_stats(centre, first_day, last_day)
    except stats.PeriodError as exc:
        raise HttpError(422, str(exc)) from exc
    text = Text(centre.country, query.lang)
    return {
        "centre": centre.pk,
        "code": centre.code,
        "from": period.first_day,
        "to": period.last_day,
        "total": summary_out(period.total),
        "groups": [
            {**summary_out(g.summary), "code": g.group.code, "name": text(g.group.name),
             "max_wait_minutes": g.max_wait_minutes}
            for g in period.groups
        ],
        "by_source": period.by_source,
        "served_per_counter": {str(k): v for k, v in period.served_per_counter.items()},
    }
