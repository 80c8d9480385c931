"""API of interchange formats: the register as CPSV-AP 3.2 in JSON-LD and Turtle.

Public like the rest of the register (no login): it carries only the register's own
data, never a person (see onestop.interop.cpsv for what goes out).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from onestop.catalogue.api import resolve_country
from onestop.core.api_errors import ErrorOut
from onestop.interop import cpsv, selectors

router = Router(tags=["interop"])


class CatalogueQuery(Schema):
    country: str | None = Field(default=None, pattern="^[a-z]{2}$",
                                description="country pack code, e.g. kz")


def _answer(request: HttpRequest, query: CatalogueQuery, fmt: str) -> HttpResponse:
    country = resolve_country(query.country)
    base = request.build_absolute_uri("/")
    graph = cpsv.build_graph(country, selectors.register(country), base)
    response = HttpResponse(cpsv.serialize(graph, fmt),
                            content_type=f"{cpsv.CONTENT_TYPES[fmt]}; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="catalogue-{country.code}.{fmt}"'
    response["Cache-Control"] = "public, max-age=300"  # the register changes by law, rarely
    return response


def _documented(content_type: str, what: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"responses": {"200": {
        "description": what,
        "content": {content_type: {"schema": schema}},
    }}}


@router.get(
    "/catalogue.jsonld",
    response={200: None, 404: ErrorOut, 422: ErrorOut},
    summary="The register as CPSV-AP 3.2 (JSON-LD)",
    openapi_extra=_documented(
        "application/ld+json", "the register as CPSV-AP 3.2 JSON-LD",
        {"type": "object", "required": ["@context"]}),
)
def catalogue_jsonld(request: HttpRequest, query: Query[CatalogueQuery]) -> HttpResponse:
    """Every service with its standard in force today as CPSV-AP 3.2: competent
    authorities, channels, costs, evidence, processing time, life events, legal basis."""
    return _answer(request, query, "jsonld")


@router.get(
    "/catalogue.ttl",
    response={200: None, 404: ErrorOut, 422: ErrorOut},
    summary="The register as CPSV-AP 3.2 (Turtle)",
    openapi_extra=_documented(
        "text/turtle", "the register as CPSV-AP 3.2 Turtle", {"type": "string"}),
)
def catalogue_turtle(request: HttpRequest, query: Query[CatalogueQuery]) -> HttpResponse:
    """The same graph as `catalogue.jsonld`, in Turtle."""
    return _answer(request, query, "ttl")
