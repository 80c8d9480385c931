"""The open data pages, for everyone (no login): the periods and datasets with their
downloads, the data dictionary, the licence and the methodology version; downloads are
the built files, served as they are."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from onestop.opendata import selectors

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    found = selectors.manifest()
    dictionaries = selectors.dictionaries()
    for dictionary in dictionaries.values():
        for dataset in dictionary.get("datasets", []):
            dataset["title_shown"] = gettext(dataset.get("title", ""))
            dataset["description_shown"] = gettext(dataset.get("description", ""))
            for column in dataset.get("columns", []):
                column["meaning_shown"] = gettext(column.get("meaning", ""))
                column["unit_shown"] = gettext(column["unit"]) if column.get("unit") else ""
    return render(request, "opendata/index.html", {
        "manifest": found,
        "periods": selectors.periods(found) if found else [],
        "dictionaries": dictionaries,
        "licence": (found or {}).get("licence"),
    })


@require_GET
def download(request: HttpRequest, name: str) -> HttpResponse | FileResponse:
    path = selectors.listed_file(name)
    if path is None:
        return render(request, "opendata/missing.html", status=404)
    fmt = path.suffix.lstrip(".")
    response = FileResponse(path.open("rb"), as_attachment=fmt != "json",
                            filename=path.name,
                            content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"))
    response["Access-Control-Allow-Origin"] = "*"
    return response
