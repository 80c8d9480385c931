"""API of the quality rankings: the stored assessment runs (`onestop assess`) read back,
with a unit's trend and the drill-down from an indicator to the records behind it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError

from onestop.accounts.api import staff_bearer
from onestop.accounts.models import User
from onestop.catalogue.api import Text, resolve_country
from onestop.core.api_errors import ErrorOut
from onestop.quality import selectors
from onestop.quality.models import AssessmentResult, AssessmentRun

router = Router(tags=["quality"])

Language = Literal["kk", "ru", "uz", "en"]
ScopeName = Literal["agency", "region", "centre", "service", "operator"]
ERRORS: dict[int, type[ErrorOut]] = dict.fromkeys((401, 403, 404, 422), ErrorOut)


class RankingQuery(Schema):
    country: str | None = Field(default=None, pattern="^[a-z]{2}$",
                                description="country pack code, e.g. kz (default: the site's)")
    period: str = Field(pattern=selectors.PERIOD_PATTERN,
                        description="2026, 2026-H2, 2026-Q3 or 2026-07")
    scope: ScopeName = "agency"
    lang: Language | None = None


class CasesQuery(RankingQuery):
    flagged: bool | None = Field(
        default=None, description="only the records in the numerator (true) or not (false)")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


UnitCode = Annotated[str, Path(pattern=selectors.UNIT_PATTERN,
                                description="the unit's code; an operator's account id")]
IndicatorCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$",
                                    description="the indicator's code, e.g. timeliness")]


class MethodologyOut(Schema):
    version: str
    example: bool = Field(description="true: an EXAMPLE methodology, not the law")
    label: str
    min_cases: int
    cases: str = Field(description="what counts as a case for min_cases")


class UnitOut(Schema):
    id: int
    code: str
    name: str


class ValueOut(Schema):
    value: float | None
    n: int


class RowOut(Schema):
    unit: UnitOut
    rank: int | None
    ranked: bool
    score: float | None
    band: str
    n: int
    penalty: float
    values: dict[str, ValueOut]


class IndicatorOut(Schema):
    code: str
    measure: str
    weight: float


class RankingOut(Schema):
    country: str
    period: str
    scope: str
    run: int
    as_of: dt.datetime
    starts_at: dt.datetime
    ends_at: dt.datetime
    methodology: MethodologyOut
    indicators: list[IndicatorOut]
    rows: list[RowOut]


class TrendOut(Schema):
    period: str
    run: int
    methodology: str
    example: bool
    rank: int | None
    ranked: bool
    score: float | None
    band: str
    n: int | None


class UnitDetailOut(Schema):
    country: str
    period: str
    scope: str
    run: int
    as_of: dt.datetime
    methodology: MethodologyOut
    indicators: list[IndicatorOut]
    result: RowOut
    counts: dict[str, float]
    trend: list[TrendOut]


class CaseOut(Schema):
    kind: str
    ref: str
    at: dt.datetime | None
    in_numerator: bool | None
    application: str | None
    detail: dict[str, Any]


class CasesOut(Schema):
    unit: UnitOut
    indicator: str
    measure: str
    records: str
    numerator: str = Field(description="what the numerator counts; empty when none")
    in_numerator: int | None = Field(description="records of the denominator in the numerator")
    count: int
    items: list[CaseOut]


def methodology_out(run: AssessmentRun) -> dict[str, Any]:
    m = selectors.methodology_of(run)
    label = f"{m.version} (EXAMPLE methodology, not law)" if m.example else m.version
    return {"version": m.version, "example": m.example, "label": label,
            "min_cases": m.min_cases, "cases": m.cases}


def indicators_out(run: AssessmentRun) -> list[dict[str, Any]]:
    return [{"code": i.code, "measure": i.measure, "weight": i.weight}
            for i in selectors.methodology_of(run).indicators]


def unit_label(scope: str, result: AssessmentResult, names: dict[int, dict[str, str]],
               text: Text) -> str:
    if scope == "operator":
        return f"operator #{result.unit_id}"
    return text(names.get(result.unit_id)) or result.unit_code


def row_out(scope: str, result: AssessmentResult, names: dict[int, dict[str, str]],
            text: Text) -> dict[str, Any]:
    return {
        "unit": {"id": result.unit_id, "code": result.unit_code,
                 "name": unit_label(scope, result, names, text)},
        "rank": result.rank if result.ranked else None,
        "ranked": result.ranked,
        "score": result.score,
        "band": result.band,
        "n": result.n,
        "penalty": result.penalty,
        "values": {code: {"value": v.get("value"), "n": int(v.get("n", 0))}
                   for code, v in result.values.items()},
    }


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _run(request: HttpRequest, query: RankingQuery) -> AssessmentRun:
    user = _user(request)
    if not selectors.may_see_rankings(user):
        raise HttpError(403, "quality rankings are for agency staff, controllers, analysts "
                             "and administrators")
    if not selectors.may_see_scope(user, query.scope):
        raise HttpError(403, "operator-level results are for controllers and analysts only")
    country = resolve_country(query.country)
    run = selectors.latest_run(country, query.period, query.scope)
    if run is None:
        raise HttpError(404, f"no assessment for {country.code} {query.period} by "
                             f"{query.scope}: run onestop assess")
    return run


def _result(request: HttpRequest, run: AssessmentRun, unit: str) -> AssessmentResult:
    result = selectors.result_for(run, unit)
    if result is None:
        raise HttpError(404, f"no unit {unit!r} in the assessment of {run.period} by "
                             f"{run.scope}")
    if not selectors.may_drill(_user(request), run.scope, result.unit_id):
        raise HttpError(403, "you may look into the units of your own agency or centre only")
    return result


@router.get(
    "/quality/rankings", auth=staff_bearer, response={200: RankingOut, **ERRORS},
    summary="The ranking of one period and scope",
)
def get_rankings(request: HttpRequest, query: Query[RankingQuery]) -> dict[str, Any]:
    """The latest stored assessment run (`onestop assess`) of the country, period and
    scope: the methodology version (and whether it is an example), and each unit's rank
    (null when not ranked: fewer cases than `min_cases`), score, band, n and indicator
    values. Ranked units come first by rank (equal scores share one), then the unranked.
    Operator-level results are for controllers and analysts only."""
    run = _run(request, query)
    results = selectors.ranking(run)
    names = selectors.unit_names(run.scope, [r.unit_id for r in results])
    text = Text(run.country, query.lang)
    return {
        "country": run.country.code, "period": run.period, "scope": run.scope,
        "run": run.pk, "as_of": run.as_of, "starts_at": run.starts_at,
        "ends_at": run.ends_at, "methodology": methodology_out(run),
        "indicators": indicators_out(run),
        "rows": [row_out(run.scope, r, names, text) for r in results],
    }


@router.get(
    "/quality/rankings/{unit}", auth=staff_bearer, response={200: UnitDetailOut, **ERRORS},
    summary="One unit of a ranking, with its trend",
)
def get_unit(request: HttpRequest, unit: UnitCode, query: Query[RankingQuery]
             ) -> dict[str, Any]:
    """One unit (its code; an operator's account id) of the latest run: its indicator
    values and the counts behind them, and its score, band and rank in the latest run of
    every earlier period of the same kind (the trend). Agency staff may open their own
    agency's units (and its services), a centre's manager their centre."""
    run = _run(request, query)
    result = _result(request, run, unit)
    names = selectors.unit_names(run.scope, [result.unit_id])
    text = Text(run.country, query.lang)
    trend = [{
        "period": p.period, "run": p.run_id, "methodology": p.version, "example": p.example,
        "rank": p.result.rank if p.result and p.result.ranked else None,
        "ranked": bool(p.result and p.result.ranked),
        "score": p.result.score if p.result else None,
        "band": p.result.band if p.result else "",
        "n": p.result.n if p.result else None,
    } for p in selectors.trend(run, result.unit_code)]
    return {
        "country": run.country.code, "period": run.period, "scope": run.scope,
        "run": run.pk, "as_of": run.as_of, "methodology": methodology_out(run),
        "indicators": indicators_out(run), "result": row_out(run.scope, result, names, text),
        "counts": result.counts, "trend": trend,
    }


@router.get(
    "/quality/rankings/{unit}/indicators/{code}/cases", auth=staff_bearer,
    response={200: CasesOut, **ERRORS},
    summary="The records behind one unit's indicator",
)
def get_cases(request: HttpRequest, unit: UnitCode, code: IndicatorCode,
              query: Query[CasesQuery]) -> dict[str, Any]:
    """The applications (or ratings, complaints, violations, tickets) behind the
    indicator's denominator for the unit over the run's period, in time order, each with
    `in_numerator` (e.g. late, for timeliness); `flagged=true` lists only those of the
    numerator. No personal data: applications by number, operators by account id."""
    run = _run(request, query)
    result = _result(request, run, unit)
    try:
        page = selectors.cases(run, result, code, flagged=query.flagged,
                               offset=query.offset, limit=query.limit)
    except LookupError as exc:
        raise HttpError(404, str(exc)) from exc
    except selectors.DrillError as exc:
        raise HttpError(422, str(exc)) from exc
    names = selectors.unit_names(run.scope, [result.unit_id])
    text = Text(run.country, query.lang)
    return {
        "unit": row_out(run.scope, result, names, text)["unit"], "indicator": code,
        "measure": page.measure, "records": page.records, "numerator": page.numerator,
        "in_numerator": page.in_numerator, "count": page.count,
        "items": [{"kind": c.kind, "ref": c.ref, "at": c.at, "in_numerator": c.in_numerator,
                   "application": c.application, "detail": c.detail} for c in page.items],
    }
