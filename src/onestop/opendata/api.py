"""API of open data: the public listing of the built periods and files (no login)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema
from ninja.errors import HttpError

from onestop.core.api_errors import ErrorOut
from onestop.opendata import selectors

router = Router(tags=["opendata"])


class FileOut(Schema):
    path: str
    url: str
    country: str
    period: str
    dataset: str
    format: str
    rows: int | None
    bytes: int
    sha256: str


class PeriodOut(Schema):
    country: str
    period: str
    methodology_version: str
    methodology_example: bool
    generated_at: str


class ListingOut(Schema):
    generated_at: str
    licence: dict[str, str]
    suppression_threshold: int
    periods: list[PeriodOut]
    files: list[FileOut]


@router.get("/open-data", response={200: ListingOut, 404: ErrorOut}, auth=None,
            summary="The open data files")
def open_data_listing(request: HttpRequest) -> dict[str, Any]:
    """Every built period (with its methodology version) and every file with its rows,
    size, sha256 and download address. 404 when nothing is built yet."""
    found = selectors.manifest()
    if found is None:
        raise HttpError(404, "no open data is built yet (`onestop opendata build`)")
    periods = [{**item, "country": cc} for cc, items in found.get("countries", {}).items()
               for item in items]
    files = [{**f, "url": request.build_absolute_uri(
        reverse("opendata:file", kwargs={"name": f["path"]}))} for f in found.get("files", [])]
    return {"generated_at": found.get("generated_at", ""), "licence": found.get("licence", {}),
            "suppression_threshold": found.get("suppression_threshold", 10),
            "periods": periods, "files": files}
